import { listAlerts } from '../alerts/store.js';
import type { Family } from '../http/env.js';
import { register } from '../http/register.js';
import { parseQuery } from '../http/validate.js';
import { AlertList, AlertsQuery } from '../schemas/alerts.js';
import { getAlertsRoute } from './attention.routes.js';

/** Alerts raised by the rules, newest first (instructors): GET /api/alerts?since=&limit=&workshop=. */
export const alertsFamily: Family = (app) => {
  register(app, getAlertsRoute, async (c) => {
    const q = parseQuery(c, AlertsQuery);
    const alerts = await listAlerts(c.get('deps').sql, q.since ? new Date(q.since) : undefined, q.limit, q.workshop);
    return c.json(AlertList.parse({ alerts }));
  });
};
