import type { Deps } from '../deps.js';
import { sessionComplete } from '../lifecycle/follow-up.js';
import { sessionCtx } from './sessions/shared.js';

/**
 * End-of-session work for every trigger (Vapi report, manual end, sweep): analysis, and the
 * call-error alert (lib/lifecycle/follow-up.ts). Apart from the analysis routes
 * (lib/routes/analysis.ts) so the doors that end sessions (sessions, webhooks, cron) do not load
 * another family's route definitions.
 */
export function onSessionComplete(deps: Deps, sessionId: string): Promise<unknown> {
  return sessionComplete(deps, sessionCtx(deps), sessionId);
}
