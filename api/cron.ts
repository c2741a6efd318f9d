// Vercel door for maintenance: /api/cron/sweep and /api/cron/retention (vercel.json `crons` and rewrites).
import { vercelHandler } from '../lib/node/vercel.js';
import { cronFamily } from '../lib/routes/cron.js';

export default vercelHandler([cronFamily]);
