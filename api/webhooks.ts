// Vercel door for voice-platform webhooks: /api/webhooks/** and the legacy /webhook/** paths (vercel.json).
import { vercelHandler } from '../lib/node/vercel.js';
import { onSessionComplete } from '../lib/routes/session-complete.js';
import { webhooksFamily } from '../lib/routes/webhooks/index.js';

export default vercelHandler([webhooksFamily(onSessionComplete)]);
