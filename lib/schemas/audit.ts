import * as z from '../util/zod.js';

/** GET /api/audit: newest first, paged with `before` (the last id of the previous page). */
export const AuditQuery = z.object({
  limit: z.optional(z.coerce.number().check(z.int(), z.minimum(1))),
  before: z.optional(z.string().check(z.regex(/^\d{1,19}$/, 'must be an id from the previous page'))),
});

export const AuditPage = z.object({
  count: z.int(),
  entries: z.array(
    z.object({
      id: z.string(),
      at: z.string(),
      actor: z.string(),
      action: z.string(),
      method: z.string(),
      path: z.string(),
      status: z.int(),
      detail: z.record(z.string(), z.unknown()),
    }),
  ),
  next_before: z.nullable(z.string()),
});
