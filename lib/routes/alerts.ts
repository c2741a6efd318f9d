import { z } from 'zod';
import { listAlerts } from '../alerts/store.js';
import type { Family } from '../http/env.js';
import { parseQuery } from '../http/validate.js';
import { AlertList } from '../schemas/alerts.js';
import { IsoDateTime } from '../schemas/common.js';
import { reader } from './sessions/shared.js';

export const AlertsQuery = z.object({
  since: IsoDateTime.optional(),
  limit: z.coerce.number({ message: 'must be a number' }).int('must be an integer').min(1, 'must be at least 1').max(500, 'must be at most 500').default(50),
});

/** Alerts raised by the rules, newest first (instructors): GET /api/alerts?since=&limit=. */
export const alertsFamily: Family = (app) => {
  app.get('/api/alerts', reader, async (c) => {
    const q = parseQuery(c, AlertsQuery);
    const alerts = await listAlerts(c.get('deps').sql, q.since ? new Date(q.since) : undefined, q.limit);
    return c.json(AlertList.parse({ alerts }));
  });
};
