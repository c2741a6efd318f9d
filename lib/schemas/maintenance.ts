import { z } from 'zod';

/** The cron family's answers (lib/routes/cron.routes.ts). */

export const SweepResponse = z.object({ ended: z.number().int(), abandoned: z.number().int(), more: z.boolean(), ended_ids: z.array(z.string()) });

export const RetentionResponse = z.object({
  cutoff: z.string(),
  events_deleted: z.number().int(),
  sessions_deleted: z.number().int(),
  analyses_deleted: z.number().int(),
  calls_deleted: z.number().int(),
  more: z.boolean(),
});
