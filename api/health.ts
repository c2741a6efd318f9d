// Vercel door for GET /api/health.
import { vercelHandler } from '../lib/node/vercel.js';

export default vercelHandler([]);
