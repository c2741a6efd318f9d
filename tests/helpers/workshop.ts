/**
 * A workshop room for attention and alert tests: students' pages post real events through
 * POST /api/session-log (so the tests hold whether or not workshop tokens have `sessions` rows).
 */
import { expect } from 'vitest';
import type { createApp } from '../../lib/app.js';
import { uniqueToken } from './deps.js';

export interface RoomEvent {
  sessionToken: string;
  eventType: string;
  eventData: Record<string, unknown>;
  timestamp: string;
  studentEmail?: string;
  studentName?: string;
}

export function room(app: ReturnType<typeof createApp>, clock: () => Date) {
  const prefix = `${uniqueToken('wk')}_`;
  const at = (minutesAgo: number) => new Date(clock().getTime() - minutesAgo * 60_000).toISOString();
  return {
    prefix,
    /** A student of this workshop: a token under the prefix and an email. */
    student(name: string) {
      const token = `${prefix}${name}`;
      const email = `${name}.${prefix.slice(3, 11)}@example.com`.toLowerCase();
      const mk = (eventType: string, minutesAgo: number, step: number, eventData: Record<string, unknown> = {}): RoomEvent => ({
        sessionToken: token,
        eventType,
        eventData: { currentStep: step, stepName: `Step ${step}`, ...eventData },
        timestamp: at(minutesAgo),
        studentEmail: email,
        studentName: name,
      });
      return {
        token,
        email,
        action: (minutesAgo: number, step: number) => mk('action', minutesAgo, step, { actionName: 'click' }),
        nav: (minutesAgo: number, from: number, to: number) => mk('navigation', minutesAgo, from, { from, to, toStepName: `Step ${to}` }),
        error: (minutesAgo: number, step: number, errorType = 'TypeError', errorMessage = 'x is undefined') => mk('error', minutesAgo, step, { errorType, errorMessage }),
        apiCall: (minutesAgo: number, step: number, status: number) => mk('api_call', minutesAgo, step, { endpoint: '/v1/call', method: 'POST', status, success: status < 400 }),
      };
    },
    /** Post events (batches of up to 500), asserting they were all stored. */
    async post(events: RoomEvent[]) {
      for (let i = 0; i < events.length; i += 500) {
        const chunk = events.slice(i, i + 500);
        const res = await app.request('/api/session-log', { method: 'POST', body: JSON.stringify({ events: chunk }), headers: { 'content-type': 'application/json' } });
        expect(res.status, await res.clone().text()).toBe(200);
        expect(((await res.json()) as { accepted: number }).accepted).toBe(chunk.length);
      }
    },
  };
}

/** Minutes on each step for a student who walked through steps 1..n, ending `endMinutesAgo`. */
export function walk(s: ReturnType<ReturnType<typeof room>['student']>, steps: number[], minutesPerStep: number, startMinutesAgo: number): RoomEvent[] {
  const out: RoomEvent[] = [];
  let t = startMinutesAgo;
  for (const [i, step] of steps.entries()) {
    out.push(s.action(t, step));
    t -= minutesPerStep;
    const next = steps[i + 1];
    if (next !== undefined) out.push(s.nav(t, step, next));
  }
  return out;
}
