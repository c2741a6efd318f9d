// Vercel door for sessions: /api/sessions/** and /api/stats (see vercel.json).
import { vercelHandler } from '../lib/node/vercel.js';
import { sessionsFamily } from '../lib/routes/sessions/index.js';

export default vercelHandler([sessionsFamily]);
