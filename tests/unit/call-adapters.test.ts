/**
 * Every registered voice-platform adapter passes the shared adapter suite
 * (tests/helpers/call-adapter-suite.ts). A new platform adds its folder under lib/calls/, one line
 * in lib/calls/adapters.ts and its cases here — the type of CASES and the check below make
 * forgetting the cases an error.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type CallAdapterName, callAdapters } from '../../lib/calls/adapters.js';
import { type AdapterCases, describeCallAdapter } from '../helpers/call-adapter-suite.js';
import { webCall } from '../fixtures/vapi/calls.js';

const VAPI_HMAC = 'adapter-suite-hmac-5e1f0a-0123456789ab';
const WEBHOOK_TOKEN = 'adapter-suite-webhook-93bd-0123456789ab';
const hmac = (payload: string, secret = VAPI_HMAC) => createHmac('sha256', secret).update(payload).digest('hex');

const CASES: Record<CallAdapterName, AdapterCases> = {
  vapi: {
    env: { VAPI_HMAC_SECRET: VAPI_HMAC },
    credentials: (raw, now) => {
      const ts = String(now.getTime());
      return { 'x-signature': hmac(`${ts}.${raw}`), 'x-timestamp': ts };
    },
    forged: [
      ['a signature made with another key', (raw) => ({ 'x-signature': hmac(raw, 'not-the-key') })],
      ['a stale timestamp', (raw, now) => {
        const ts = String(now.getTime() - 60 * 60_000);
        return { 'x-signature': hmac(`${ts}.${raw}`), 'x-timestamp': ts };
      }],
      ['the key itself as a Bearer token', () => ({ authorization: `Bearer ${VAPI_HMAC}` })],
    ],
    signsBody: true,
    call: (student, now) => {
      const c = webCall({ startedAt: new Date(now.getTime() - 10 * 60_000), metadata: { studentId: student } });
      const turns = [
        { role: 'bot' as const, text: 'Hello! Ready for some fractions?', at: 1.2 },
        { role: 'user' as const, text: 'Yes, let us start with halves.', at: 4.8 },
      ];
      return {
        callId: c.id,
        startedAt: c.start,
        endedAt: c.at(60),
        start: c.status('in-progress', 0.5),
        line: { body: c.transcript('user', 'Yes, let us start with halves.', 4.8), speaker: 'user', text: 'Yes, let us start with halves.' },
        end: c.report({ turns, endAt: 60 }),
      };
    },
    foreign: [{ message: { call: { id: 'x' } } }, { message: 'end-of-call-report' }, { type: 'end-of-call-report' }],
  },
  'session-data': {
    env: { WEBHOOK_TOKEN },
    credentials: () => ({ authorization: `Bearer ${WEBHOOK_TOKEN}` }),
    forged: [
      ['a wrong token', () => ({ authorization: 'Bearer not-the-token' })],
      ['the token without the Bearer scheme', () => ({ authorization: WEBHOOK_TOKEN })],
      ['the token in a Vapi secret header', () => ({ 'x-vapi-secret': WEBHOOK_TOKEN })],
    ],
    signsBody: false,
    call: (student, now) => {
      const callId = `rc_${crypto.randomUUID()}`;
      const startedAt = new Date(now.getTime() - 10 * 60_000);
      const endedAt = new Date(startedAt.getTime() + 4 * 60_000);
      const common = { platform: 'retell', student_id: student, call_id: callId, started_at: startedAt.toISOString() };
      const line = { speaker: 'user', text: 'Can we go over decimals again?', timestamp: new Date(startedAt.getTime() + 5000).toISOString() };
      return {
        callId,
        startedAt,
        endedAt,
        start: common,
        line: { body: { ...common, transcript: [line] }, speaker: line.speaker, text: line.text },
        end: { ...common, ended_at: endedAt.toISOString(), transcript: [line, { speaker: 'agent', text: 'Of course, decimals it is.' }] },
      };
    },
    foreign: [{ platform: 'retell' }, { platform: 'retell', started_at: 'yesterday' }, { message: 'hi', platform: 'x', started_at: '2026-01-01T00:00:00Z' }],
  },
};

describe('the adapter registry', () => {
  it('has shared-suite cases for every registered adapter, and each adapter is registered under its own name', () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(callAdapters).sort());
    for (const [name, adapter] of Object.entries(callAdapters)) expect(adapter.name).toBe(name);
  });
});

for (const name of Object.keys(callAdapters) as CallAdapterName[]) describeCallAdapter(callAdapters[name], CASES[name]);
