import type { Family } from '../../http/env.js';
import { allow } from '../../http/auth.js';
import { limitByIp } from '../../http/ratelimit.js';
import { getSessionLog } from './get.js';
import { getLogStats } from './stats.js';
import { postSessionLog } from './post.js';

/** The workshop event log: pages write (public), instructors read (admin). */
export const sessionLogFamily: Family = (app) => {
  app.post('/api/session-log', limitByIp('ingest-ip', (c) => c.rateLimits.ingestPerIp), postSessionLog);
  const read = allow(['admin', 'instructor'], 'read');
  app.get('/api/session-log', read, getSessionLog);
  app.get('/api/session-log/stats', read, getLogStats);
};
