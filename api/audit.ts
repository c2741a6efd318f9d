// Vercel door for GET /api/audit (the file path is the route: no rewrite).
import { vercelHandler } from '../lib/node/vercel.js';
import { auditFamily } from '../lib/routes/audit.js';

export default vercelHandler([auditFamily]);
