// Vercel door for /api/attention and /api/alerts (vercel.json): the instructor's "who needs help" reads.
import { vercelHandler } from '../lib/node/vercel.js';
import { alertsFamily } from '../lib/routes/alerts.js';
import { attentionFamily } from '../lib/routes/attention.js';

export default vercelHandler([attentionFamily, alertsFamily]);
