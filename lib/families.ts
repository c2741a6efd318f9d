import type { Family } from './http/env.js';
import { analysisFamily } from './routes/analysis.js';
import { onSessionComplete } from './routes/session-complete.js';
import { auditFamily } from './routes/audit.js';
import { cronFamily } from './routes/cron.js';
import { alertsFamily } from './routes/alerts.js';
import { attentionFamily } from './routes/attention.js';
import { attentionStreamFamily } from './routes/attention-stream.js';
import { openApiFamily } from './openapi.js';
import { healthFamily } from './routes/health.js';
import { sessionLogFamily } from './routes/session-log/index.js';
import { sessionsFamily } from './routes/sessions/index.js';
import { studentsFamily } from './routes/students.js';
import { webhooksFamily } from './routes/webhooks/index.js';

/** Every endpoint family, for doors that serve the whole API (local server, edge worker). */
export const allFamilies: readonly Family[] = [
  healthFamily,
  openApiFamily,
  sessionLogFamily,
  analysisFamily,
  sessionsFamily,
  cronFamily,
  auditFamily,
  studentsFamily,
  webhooksFamily(onSessionComplete),
  attentionFamily,
  attentionStreamFamily,
  alertsFamily,
];
