import * as z from '../util/zod.js';

/** The cron family's answers (lib/routes/cron.routes.ts). */

export const SweepResponse = z.object({ ended: z.int(), abandoned: z.int(), more: z.boolean(), ended_ids: z.array(z.string()) });

export const RetentionResponse = z.object({
  cutoff: z.string(),
  events_deleted: z.int(),
  sessions_deleted: z.int(),
  analyses_deleted: z.int(),
  calls_deleted: z.int(),
  more: z.boolean(),
});
