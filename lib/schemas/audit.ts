import { z } from 'zod';

/** GET /api/audit: newest first, paged with `before` (the last id of the previous page). */
export const AuditQuery = z.object({
  limit: z.coerce.number().int().min(1).optional(),
  before: z.string().regex(/^\d{1,19}$/, 'must be an id from the previous page').optional(),
});

export const AuditPage = z.object({
  count: z.number().int(),
  entries: z.array(
    z.object({
      id: z.string(),
      at: z.string(),
      actor: z.string(),
      action: z.string(),
      method: z.string(),
      path: z.string(),
      status: z.number().int(),
      detail: z.record(z.string(), z.unknown()),
    }),
  ),
  next_before: z.string().nullable(),
});
