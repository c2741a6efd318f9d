import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  raw: string;
  body: Record<string, unknown>;
}

/**
 * A webhook receiver on a real loopback port, as a Slack or JSON endpoint would be: it records
 * each request, answers `failures` times with 500 first, and (when given the secret) verifies
 * X-Sessionlog-Signature the way a receiver must — HMAC-SHA256 of the raw body, constant-time.
 */
export async function startReceiver(opts: { failures?: number; secret?: string; hang?: boolean } = {}) {
  const received: Received[] = [];
  let failures = opts.failures ?? 0;
  let badSignatures = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (opts.hang) return; // never answers
      const raw = Buffer.concat(chunks).toString('utf8');
      if (opts.secret) {
        const expected = createHmac('sha256', opts.secret).update(raw).digest();
        const got = Buffer.from(String(req.headers['x-sessionlog-signature'] ?? ''), 'hex');
        if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
          badSignatures++;
          res.writeHead(401).end();
          return;
        }
      }
      received.push({ path: req.url ?? '', headers: req.headers, raw, body: JSON.parse(raw) as Record<string, unknown> });
      if (failures > 0) {
        failures--;
        res.writeHead(500).end('try later');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/T000/B000?token=receiver-secret-token`,
    received,
    get badSignatures() {
      return badSignatures;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
