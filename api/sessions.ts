// Vercel door for sessions: /api/sessions/**, /api/stats and the /api/cron/sweep cron (see vercel.json).
import { vercelHandler } from '../lib/node/vercel.js';
import { sessionsFamily } from '../lib/routes/sessions/index.js';

export default vercelHandler([sessionsFamily]);
