import { serveStatic } from '@hono/node-server/serve-static';
import type { Family } from '../http/env.js';

/**
 * Serve public/ (the logging client, the demo and the dashboard) from the local Node server.
 * Vercel serves public/ itself; an edge deployment serves it as static assets.
 */
export function staticFamily(publicDir: string): Family {
  return (app) => {
    app.get('/dashboard', (c) => c.redirect('/dashboard/'));
    app.get('/demo', (c) => c.redirect('/demo/'));
    app.use('/*', serveStatic({ root: publicDir }));
  };
}
