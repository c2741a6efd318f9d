import type { Family } from '../../http/env.js';
import { register } from '../../http/register.js';
import { getSessionLog } from './get.js';
import { postSessionLog } from './post.js';
import { getLogStatsRoute, getSessionLogRoute, postSessionLogRoute } from './routes.js';
import { getLogStats } from './stats.js';

/** The workshop event log: pages write (public), instructors read (admin). */
export const sessionLogFamily: Family = (app) => {
  register(app, postSessionLogRoute, postSessionLog);
  register(app, getSessionLogRoute, getSessionLog);
  register(app, getLogStatsRoute, getLogStats);
};
