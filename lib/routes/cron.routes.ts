import { defineRoute } from '../http/route.js';
import { RetentionResponse, SweepResponse } from '../schemas/maintenance.js';

// Vercel cron sends GET; operators may POST. Both are the same operation, documented twice.
const sweep = { path: '/api/cron/sweep', summary: 'End idle sessions; retry failed analyses', tag: 'maintenance', auth: 'cron', ok: { 200: SweepResponse } } as const;
const retention = {
  path: '/api/cron/retention', summary: 'Delete data older than RETENTION_DAYS, in bounded batches (call again while `more`)', tag: 'maintenance', auth: 'cron',
  ok: { 200: RetentionResponse },
} as const;

export const getSweepRoute = defineRoute({ method: 'get', ...sweep, description: 'What Vercel cron calls (vercel.json `crons`).' });
export const postSweepRoute = defineRoute({ method: 'post', ...sweep });
export const getRetentionRoute = defineRoute({ method: 'get', ...retention, description: 'What Vercel cron calls (vercel.json `crons`).' });
export const postRetentionRoute = defineRoute({ method: 'post', ...retention });

export const cronRoutes = [getSweepRoute, postSweepRoute, getRetentionRoute, postRetentionRoute];
