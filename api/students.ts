// Vercel door for /api/students/** (vercel.json).
import { vercelHandler } from '../lib/node/vercel.js';
import { studentsFamily } from '../lib/routes/students.js';

export default vercelHandler([studentsFamily]);
