import * as z from '../util/zod.js';
import { InputTime, WorkshopPrefix } from './common.js';

export const AlertRule = z.enum(['repeated_error', 'error_spike', 'stuck', 'call_error']);

/** One alert as GET /api/alerts lists it (the webhook's structured body carries the same fields). */
export const AlertItem = z.object({
  id: z.string(),
  rule: AlertRule,
  key: z.string(),
  student_id: z.nullable(z.string()),
  session_id: z.nullable(z.string()),
  title: z.string(),
  detail: z.string(),
  created_at: z.iso.datetime(),
  delivery: z.object({ status: z.enum(['delivered', 'pending', 'failed', 'not_configured']), attempts: z.int().check(z.minimum(0)) }),
});
export type AlertItem = z.infer<typeof AlertItem>;

export const AlertList = z.object({ alerts: z.array(AlertItem) });
export type AlertList = z.infer<typeof AlertList>;

/** GET /api/alerts?since=&limit=&workshop= */
export const AlertsQuery = z.object({
  since: z.optional(InputTime),
  /** Only alerts of sessions whose token starts with this (the Now view's workshop filter). */
  workshop: z.optional(WorkshopPrefix),
  limit: z._default(
    z.coerce.number({ message: 'must be a number' }).check(z.int('must be an integer'), z.minimum(1, 'must be at least 1'), z.maximum(500, 'must be at most 500')),
    50,
  ),
});
