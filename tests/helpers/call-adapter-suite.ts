/**
 * The suite every voice-platform adapter passes (unstorage's test/drivers/utils.ts idea): the same
 * cases against each registered CallAdapter — credentials accepted and refused, a call's start, a
 * transcript line and its end parsed into the neutral shape, foreign bodies refused — and then the
 * three deliveries received through lib/calls on real storage (PGlite + memory KV) as ONE
 * completed session whose end-of-session work is due exactly once.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receiveCall } from '../../lib/calls/receive.js';
import type { CallAdapter, CallDelivery } from '../../lib/calls/types.js';
import type { Config } from '../../lib/config.js';
import { silentLogger } from '../../lib/deps.js';
import { getDocument } from '../../lib/sessions/read.js';
import type { SessionCtx } from '../../lib/sessions/context.js';
import { createMemoryKv } from '../../lib/storage/kv-memory.js';
import type { Sql } from '../../lib/storage/sql.js';
import { memoryPglite, testConfig } from './deps.js';

export interface AdapterCall {
  callId: string;
  startedAt: Date;
  endedAt: Date;
  /** Bodies as the platform sends them (objects; the suite serialises them). */
  start: unknown;
  line: { body: unknown; speaker: string; text: string };
  end: unknown;
}

export interface AdapterCases {
  /** Environment that configures the adapter's credentials (the suite adds production mode). */
  env: Record<string, string>;
  /** Headers that authenticate `rawBody` at `now`. */
  credentials(rawBody: string, now: Date): Record<string, string>;
  /** Credentials that must be refused. */
  forged: Array<[label: string, headers: (rawBody: string, now: Date) => Record<string, string>]>;
  /** The credential covers the body (a signature): the same headers on another body are refused. */
  signsBody: boolean;
  /** One call of `student`, starting shortly before `now`. */
  call(student: string, now: Date): AdapterCall;
  /** JSON bodies that are not this platform's: parse must say what is wrong, never throw. */
  foreign: unknown[];
}

const PRODUCTION = { NODE_ENV: 'production', DATABASE_URL: 'postgres://sessionlog@127.0.0.1:5432/sessionlog' };

/** The transcript lines a delivery carries, whichever way the platform sends them. */
export function linesOf(d: CallDelivery): Array<{ speaker: string; text: string }> {
  if (d.update.kind === 'transcript') return [{ speaker: d.update.speaker, text: d.update.text }];
  if (d.update.kind === 'report') return (d.update.report.transcript?.lines ?? []).map(({ speaker, text }) => ({ speaker, text }));
  return [];
}

const endOf = (d: CallDelivery) => (d.update.kind === 'report' ? d.update.report.end : undefined);

export function describeCallAdapter(adapter: CallAdapter, cases: AdapterCases) {
  describe(`call adapter "${adapter.name}"`, () => {
    const now = new Date('2026-03-02T10:30:00Z');
    const config: Config = testConfig({ ...PRODUCTION, ...cases.env });
    const student = `stu_${adapter.name.replace(/\W/g, '_')}_${crypto.randomUUID().slice(0, 6)}`;
    const call = cases.call(student, now);
    const raw = (body: unknown) => JSON.stringify(body);
    const parse = async (body: unknown): Promise<CallDelivery> => {
      const r = await adapter.parse(JSON.parse(raw(body)), now);
      if (!r.ok) throw new Error(`${adapter.name} refused its own body: ${r.detail}`);
      return r.delivery;
    };

    describe('authenticate', () => {
      it('accepts good credentials', async () => {
        const body = raw(call.start);
        expect(await adapter.authenticate({ headers: new Headers(cases.credentials(body, now)), rawBody: body }, config, now)).toMatchObject({ ok: true });
      });

      it.each([['no credentials', () => ({})] as const, ...cases.forged])('refuses %s, saying why without echoing a secret', async (_label, headers) => {
        const body = raw(call.start);
        const r = await adapter.authenticate({ headers: new Headers(headers(body, now)), rawBody: body }, config, now);
        expect(r.ok).toBe(false);
        if (r.ok) return;
        expect(r.reason.length).toBeGreaterThan(10);
        for (const secret of Object.values(cases.env)) expect(r.reason).not.toContain(secret);
      });

      it('refuses everything when no credential is configured (production)', async () => {
        const body = raw(call.start);
        const bare = testConfig(PRODUCTION);
        expect((await adapter.authenticate({ headers: new Headers(cases.credentials(body, now)), rawBody: body }, bare, now)).ok).toBe(false);
      });

      it.runIf(cases.signsBody)('refuses a tampered body under the original credentials', async () => {
        const body = raw(call.start);
        const headers = new Headers(cases.credentials(body, now));
        expect((await adapter.authenticate({ headers, rawBody: `${body} ` }, config, now)).ok).toBe(false);
      });
    });

    describe('parse into the neutral shape', () => {
      it('a start: the call, who it is about, not ended', async () => {
        const d = await parse(call.start);
        expect(d).toMatchObject({ callId: call.callId, identity: { studentId: student } });
        expect(d.linkStart.getTime()).toBeLessThanOrEqual(call.startedAt.getTime());
        expect(call.startedAt.getTime() - d.linkStart.getTime()).toBeLessThan(60_000);
        expect(d.update.kind).not.toBe('ignored');
        expect(endOf(d)).toBeUndefined();
      });

      it('a transcript line: speaker and text, in the same call', async () => {
        const d = await parse(call.line.body);
        expect(d.callId).toBe(call.callId);
        expect(linesOf(d)).toContainEqual({ speaker: call.line.speaker, text: call.line.text });
        expect(endOf(d)).toBeUndefined();
      });

      it('an end: a report ending the call at its end time, holding the line', async () => {
        const d = await parse(call.end);
        expect(d.callId).toBe(call.callId);
        expect(d.update.kind).toBe('report');
        expect(endOf(d)?.at.toISOString()).toBe(call.endedAt.toISOString());
        expect(linesOf(d)).toContainEqual({ speaker: call.line.speaker, text: call.line.text });
      });

      it('every message of the call links alike, and parsing is deterministic (a redelivery keys the same)', async () => {
        const all = [await parse(call.start), await parse(call.line.body), await parse(call.end)];
        expect(new Set(all.map((d) => `${d.platform}|${d.callId}|${d.linkStart.toISOString()}|${JSON.stringify(d.identity)}`)).size).toBe(1);
        expect(await parse(call.end)).toEqual(all[2]);
      });

      it('never dates anything after now', async () => {
        for (const body of [call.start, call.line.body, call.end]) {
          const d = await parse(body);
          expect(d.at.getTime()).toBeLessThanOrEqual(now.getTime());
          const end = endOf(d);
          if (end) expect(end.at.getTime()).toBeLessThanOrEqual(now.getTime());
        }
      });

      it('survives any field of its own bodies replaced by junk: an answer, never a throw, never an invalid or future date', async () => {
        const junk = fc.oneof(
          fc.jsonValue({ maxDepth: 2 }),
          // Sane but in the future: must be clamped to now.
          fc.integer({ min: now.getTime() + 60_000, max: Date.UTC(2199, 0, 1) }).chain((t) => fc.constantFrom<unknown>(t, new Date(t).toISOString())),
          fc.constantFrom<unknown>(1e20, -9e12, -1e20, '1e20', 'yesterday', '', '2026-13-45', '+275760-09-13T00:00:00Z', 'x'.repeat(300)),
        );
        const bodies = [call.start, call.line.body, call.end];
        await fc.assert(
          fc.asyncProperty(fc.nat(bodies.length - 1), fc.nat(), junk, async (which, pick, value) => {
            const body = structuredClone(bodies[which]);
            const paths = leafPaths(body);
            const path = paths[pick % paths.length] ?? [];
            setAt(body, path, value);
            const r = await adapter.parse(body, now);
            if (!r.ok) {
              expect(r.errors.length).toBeGreaterThan(0);
              return;
            }
            const d = r.delivery;
            const end = endOf(d);
            const report = d.update.kind === 'report' ? d.update.report : undefined;
            const dates = [d.at, d.linkStart, ...(end ? [end.at] : []), ...(report ? [report.startedAt, report.at, ...(report.transcript?.lines ?? []).map((l) => l.at), ...report.toolCalls.map((c) => c.at)] : [])];
            for (const t of dates) {
              expect(Number.isFinite(t.getTime())).toBe(true);
              expect(t.getTime()).toBeLessThanOrEqual(now.getTime());
            }
            expect((d.callId ?? '').length).toBeLessThanOrEqual(200);
          }),
          { numRuns: 300 },
        );
      });

      it.each([null, 42, 'text', [], {}, ...cases.foreign].map((b) => [JSON.stringify(b).slice(0, 60), b]))('refuses %s with errors', async (_l, body) => {
        const r = await adapter.parse(body, now);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.errors.length).toBeGreaterThan(0);
      });
    });

    describe('received through lib/calls', () => {
      let sql: Sql;
      let ctx: SessionCtx;
      beforeAll(async () => {
        sql = await memoryPglite();
        ctx = { sql, kv: createMemoryKv(), timeoutMs: 30 * 60_000, now: () => now, log: silentLogger };
      });
      afterAll(() => sql.close());

      it('start, line and end are ONE completed session holding the line; a redelivered end completes nothing', async () => {
        const env = { config, log: silentLogger, matchWindowMs: 5 * 60_000 };
        const receive = async (body: unknown) => receiveCall(ctx, adapter, await parse(body), { ...env, rawBody: raw(body) });
        const start = await receive(call.start);
        const line = await receive(call.line.body);
        const end = await receive(call.end);
        const sessionId = start.linked?.sessionId;
        expect(sessionId).toBeDefined();
        expect([line.linked?.sessionId, end.linked?.sessionId]).toEqual([sessionId, sessionId]);
        expect(start.completedSessionId).toBeUndefined();
        expect(end.completedSessionId).toBe(sessionId);

        const doc = await getDocument(ctx, sessionId ?? '');
        expect(doc).toMatchObject({ student_id: student, status: 'completed', end_time: call.endedAt.toISOString() });
        expect(doc.conversation.entries.filter((e) => e.text === call.line.text)).toHaveLength(1);

        const again = await receive(call.end);
        expect(again.completedSessionId).toBeUndefined();
        expect((await getDocument(ctx, sessionId ?? '')).conversation.entries).toEqual(doc.conversation.entries);
      });
    });
  });
}

/** Paths to every leaf of a JSON value (objects and arrays walked; depth-limited). */
function leafPaths(v: unknown, at: Array<string | number> = [], depth = 0): Array<Array<string | number>> {
  if (depth > 6 || v === null || typeof v !== 'object') return [at];
  const entries: Array<[string | number, unknown]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  return entries.length ? entries.flatMap(([k, x]) => leafPaths(x, [...at, k], depth + 1)) : [at];
}

function setAt(root: unknown, path: Array<string | number>, value: unknown): void {
  let o = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (last !== undefined) o[last] = value;
}
