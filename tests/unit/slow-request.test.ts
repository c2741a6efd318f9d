/**
 * The local server's deadline for a whole request (REQUEST_TIMEOUT_SECONDS, server.ts). A client
 * that sends its headers, or its body, and then stops used to hold its connection for Node's
 * default 300 s (checked every 30 s); POST /api/session-log has no deadline of its own. The
 * answer, and Node's to HTTP it cannot parse, is a problem document (lib/node/client-error.ts),
 * not Node's bare status line. The real `tsx server.ts` (embedded PGlite, port 0) with a 1 s
 * deadline, over raw TCP.
 */
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Problem } from '../../lib/schemas/responses.js';
import { type LocalServer, startLocalServer } from '../helpers/local-server.js';

const ADMIN_TOKEN = 'slow-request-admin-token-0123456789abcdef';

let server: LocalServer;
let port: number;

beforeAll(async () => {
  server = await startLocalServer({ ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: mkdtempSync(join(tmpdir(), 'sl-slow-')), REQUEST_TIMEOUT_SECONDS: '1', DATABASE_URL: '', ADMIN_TOKEN }, 90_000);
  port = server.port;
}, 120_000);
afterAll(() => {
  server?.proc.kill('SIGTERM');
});

/** Send `head` over a raw connection, then nothing; resolve with what came back and when the server closed it. */
function sendAndStall(head: string): Promise<{ answer: string; closedAfterMs: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head));
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ answer, closedAfterMs: performance.now() - t0 }));
    // Far beyond the deadline: the test fails here rather than hanging if the server never closes.
    socket.setTimeout(15_000, () => {
      socket.destroy();
      reject(new Error(`still open after 15 s; received: ${JSON.stringify(answer)}`));
    });
  });
}

/** A raw HTTP/1.1 answer's status, headers (lower-cased names) and body. */
function parseAnswer(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const [statusLine = '', ...lines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: raw.slice(end + 4) };
}

/** Assert a whole problem-document answer with this status that closes the connection; return the problem. */
function expectProblemAnswer(raw: string, status: number) {
  const { status: got, headers, body } = parseAnswer(raw);
  expect(got, raw).toBe(status);
  expect(headers['content-type']).toBe('application/problem+json; charset=utf-8');
  expect(headers.connection).toBe('close');
  expect(Number(headers['content-length'])).toBe(Buffer.byteLength(body));
  const problem = Problem.parse(JSON.parse(body));
  expect(problem.status).toBe(status);
  return problem;
}

const EVENT = JSON.stringify({ sessionToken: 'ws_slow_body_1', eventType: 'action', eventData: { actionName: 'run' } });

describe('a request that does not finish arriving', () => {
  it('a body that stops halfway is answered 408 and its connection closed after the deadline, not after 300 s', async () => {
    const head = `POST /api/session-log HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${EVENT.length}\r\n\r\n${EVENT.slice(0, 20)}`;
    const { answer, closedAfterMs } = await sendAndStall(head);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(expectProblemAnswer(answer, 408)).toMatchObject({
      code: 'REQUEST_TIMEOUT',
      title: 'Request Timeout',
      detail: "the request's headers and body did not all arrive within REQUEST_TIMEOUT_SECONDS (1 s)",
    });
    expect(closedAfterMs).toBeGreaterThan(900);
    expect(closedAfterMs).toBeLessThan(5_000);
  }, 20_000);

  it('headers that never end are answered 408 too', async () => {
    const { answer, closedAfterMs } = await sendAndStall('POST /api/session-log HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    expect(expectProblemAnswer(answer, 408).code).toBe('REQUEST_TIMEOUT');
    expect(closedAfterMs).toBeLessThan(5_000);
  }, 20_000);

  it('a request that arrives whole is stored as before', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/session-log`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: EVENT });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ success: true });
  });
});

describe('a request Node cannot parse', () => {
  it('malformed HTTP is answered 400 naming what is wrong, and its connection closed', async () => {
    const { answer, closedAfterMs } = await sendAndStall('POST /api/session-log HTTP/1.1\r\nHost: 127.0.0.1\r\nNot a header\r\n\r\n');
    const problem = expectProblemAnswer(answer, 400);
    expect(problem).toMatchObject({ code: 'BAD_REQUEST', title: 'Bad Request' });
    expect(problem.detail).toMatch(/^malformed HTTP request: .+ \(HPE_[A-Z_]+\)$/);
    // Closed at once, not at the deadline.
    expect(closedAfterMs).toBeLessThan(900);
  });

  it('headers over the size Node accepts are answered 431', async () => {
    const { answer } = await sendAndStall(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
    expect(expectProblemAnswer(answer, 431)).toMatchObject({
      code: 'HEADERS_TOO_LARGE',
      title: 'Request Header Fields Too Large',
      detail: "the request's headers are larger than the 16384 bytes the server accepts",
    });
  });

  it('garbage after an answer has begun on the connection closes it without writing into that answer', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () =>
        socket.write(`GET /api/attention/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${ADMIN_TOKEN}\r\n\r\n`),
      );
      let got = '';
      socket.on('data', (d) => {
        const first = got === '';
        got += d.toString();
        // The stream's head is out: a second request on the connection that Node cannot parse.
        if (first) socket.write('Not HTTP at all\r\n\r\n');
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(got));
      socket.setTimeout(15_000, () => {
        socket.destroy();
        reject(new Error(`still open after 15 s; received: ${JSON.stringify(got)}`));
      });
    });
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(parseAnswer(answer).headers['content-type']).toContain('text/event-stream');
    expect(answer).not.toContain('HTTP/1.1 400');
  });
});
