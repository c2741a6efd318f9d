import { z } from 'zod';

/** GET /api/audit: newest first, paged with `before` (the last id of the previous page). */
export const AuditQuery = z.object({
  limit: z.coerce.number().int().min(1).optional(),
  before: z.string().regex(/^\d{1,19}$/, 'must be an id from the previous page').optional(),
});
