// Vercel door for session analysis: /api/sessions/{id}/analysis (vercel.json routes it here).
import { vercelHandler } from '../lib/node/vercel.js';
import { analysisFamily } from '../lib/routes/analysis.js';

export default vercelHandler([analysisFamily]);
