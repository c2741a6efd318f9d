// Vercel door for /api/attention, /api/attention/stream and /api/alerts (vercel.json): the instructor's "who needs help" reads.
import { vercelHandler } from '../lib/node/vercel.js';
import { alertsFamily } from '../lib/routes/alerts.js';
import { attentionFamily } from '../lib/routes/attention.js';
import { attentionStreamFamily } from '../lib/routes/attention-stream.js';

export default vercelHandler([attentionFamily, attentionStreamFamily, alertsFamily]);
