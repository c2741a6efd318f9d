// Vercel door for /api/attention (vercel.json).
import { vercelHandler } from '../lib/node/vercel.js';
import { attentionFamily } from '../lib/routes/attention.js';

export default vercelHandler([attentionFamily]);
