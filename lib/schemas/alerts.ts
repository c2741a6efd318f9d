import { z } from 'zod';

export const AlertRule = z.enum(['repeated_error', 'error_spike', 'stuck', 'call_error']);

/** One alert as GET /api/alerts lists it (the webhook's structured body carries the same fields). */
export const AlertItem = z.object({
  id: z.string(),
  rule: AlertRule,
  key: z.string(),
  student_id: z.string().nullable(),
  session_id: z.string().nullable(),
  title: z.string(),
  detail: z.string(),
  created_at: z.iso.datetime(),
  delivery: z.object({ status: z.enum(['delivered', 'pending', 'failed', 'not_configured']), attempts: z.number().int().min(0) }),
});
export type AlertItem = z.infer<typeof AlertItem>;

export const AlertList = z.object({ alerts: z.array(AlertItem) });
export type AlertList = z.infer<typeof AlertList>;
