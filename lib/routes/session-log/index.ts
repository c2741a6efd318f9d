import type { Family } from '../../app.js';
import { requireToken } from '../../http/auth.js';
import { getSessionLog } from './get.js';
import { postSessionLog } from './post.js';

/** The workshop event log: pages write (public), instructors read (admin). */
export const sessionLogFamily: Family = (app, deps) => {
  app.post('/api/session-log', postSessionLog);
  app.get('/api/session-log', requireToken(() => [deps.config.adminToken], 'admin token'), getSessionLog);
};
