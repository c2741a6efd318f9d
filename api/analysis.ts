// Vercel door for session analysis: /api/sessions/{id}/analysis and /api/analysis/usage (vercel.json routes them here).
import { vercelHandler } from '../lib/node/vercel.js';
import { analysisFamily } from '../lib/routes/analysis.js';

export default vercelHandler([analysisFamily]);
