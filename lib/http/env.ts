import type { Hono } from 'hono';
import type { Deps } from '../deps.js';

/**
 * Types only (unkey's `pkg/hono/env.ts`): the app factory, middleware and routes all import these
 * from here, so no import circle can form through `lib/app.ts`.
 */

/**
 * Roles, by token: `admin` (ADMIN_TOKEN) does everything instructors do plus deleting and
 * reconfiguring; `instructor` (INSTRUCTOR_TOKENS) reads and runs analyses; `service`
 * (SERVICE_TOKEN) writes sessions; `cron` (CRON_SECRET) runs maintenance; `webhook`
 * (WEBHOOK_TOKEN) posts session data. The id names the token in logs and the audit trail.
 */
export type Role = 'admin' | 'instructor' | 'service' | 'cron' | 'webhook';
export interface Principal {
  role: Role;
  id: string;
}

export type AppEnv = {
  Variables: {
    deps: Deps;
    requestId: string;
    principal: Principal;
    /** Audit this path instead of the request's (personal data in it). */
    auditPath?: string;
  };
};
/** Routes are mounted from their definitions by lib/http/register.ts. */
export type App = Hono<AppEnv>;

/** An endpoint family mounts its routes on the shared app. */
export type Family = (app: App, deps: Deps) => void;
