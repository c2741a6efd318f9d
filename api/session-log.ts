// Vercel door for the workshop event log (/api/session-log and its sub-paths via vercel.json).
import { vercelHandler } from '../lib/node/vercel.js';
import { sessionLogFamily } from '../lib/routes/session-log/index.js';

export default vercelHandler([sessionLogFamily]);
