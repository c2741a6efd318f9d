/**
 * The local server's deadline for a whole request (REQUEST_TIMEOUT_SECONDS, server.ts). A client
 * that sends its headers, or its body, and then stops used to hold its connection for Node's
 * default 300 s (checked every 30 s); POST /api/session-log has no deadline of its own. The real
 * `tsx server.ts` (embedded PGlite, port 0) with a 1 s deadline, over raw TCP.
 */
import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalServer, startLocalServer } from '../helpers/local-server.js';

let server: LocalServer;
let port: number;

beforeAll(async () => {
  server = await startLocalServer({ ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: mkdtempSync(join(tmpdir(), 'sl-slow-')), REQUEST_TIMEOUT_SECONDS: '1', DATABASE_URL: '' }, 90_000);
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

const EVENT = JSON.stringify({ sessionToken: 'ws_slow_body_1', eventType: 'action', eventData: { actionName: 'run' } });

describe('a request that does not finish arriving', () => {
  it('a body that stops halfway is answered 408 and its connection closed after the deadline, not after 300 s', async () => {
    const head = `POST /api/session-log HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${EVENT.length}\r\n\r\n${EVENT.slice(0, 20)}`;
    const { answer, closedAfterMs } = await sendAndStall(head);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).toBeGreaterThan(900);
    expect(closedAfterMs).toBeLessThan(5_000);
  }, 20_000);

  it('headers that never end are answered 408 too', async () => {
    const { answer, closedAfterMs } = await sendAndStall('POST /api/session-log HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).toBeLessThan(5_000);
  }, 20_000);

  it('a request that arrives whole is stored as before', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/session-log`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: EVENT });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ success: true });
  });
});
