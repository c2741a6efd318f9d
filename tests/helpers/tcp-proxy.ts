/**
 * A TCP proxy on 127.0.0.1 in front of a real server (Postgres, Redis), to simulate that server
 * going down and coming back without touching the real service, which other suites share.
 *
 * `down()` resets every open connection (both sides) and, while down, resets each new connection
 * as soon as it is accepted. The listener stays open on purpose: closing it would give a cleaner
 * ECONNREFUSED, but the port could then be taken by someone else (the kernel hands out the same
 * ephemeral range for outgoing connections), and `up()` must come back on the SAME port because
 * the clients under test hold its URL. A client therefore sees ECONNRESET (or "Connection
 * terminated unexpectedly") right after connecting, which is just as fast and just as "down".
 *
 * `stall()` is the other kind of outage, a black hole (a network partition, a frozen server): open
 * connections stop carrying data in both directions and new ones are accepted but never answered.
 * Nothing is reset, so a client only notices through its own timeouts. `up()` ends it by resetting
 * the stalled connections (a healed partition finds the peer long gone) and forwarding again.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** True between down() and up(). */
  readonly isDown: boolean;
  /** True between stall() and up(). */
  readonly isStalled: boolean;
  /** Connections accepted and forwarded so far (handy to check a client really went through it). */
  readonly accepted: number;
  /** Reset every open connection and refuse (reset) new ones until up(). */
  down(): void;
  /** Black-hole every open and new connection (no data, no reset) until up(). */
  stall(): void;
  /** Forward new connections again, on the same port (stalled connections are reset). */
  up(): void;
  /** Reset everything and stop listening. */
  close(): Promise<void>;
}

/** `socket.resetAndDestroy()` sends a RST where possible (Node ≥ 16.17); plain destroy otherwise. */
function kill(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let isDown = false;
  let isStalled = false;
  let accepted = 0;

  const track = (s: Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    // A reset peer is the point of this helper: never let it crash the test process.
    s.on('error', () => {});
  };

  const server: Server = createServer({ noDelay: true }, (client) => {
    if (isDown) {
      client.on('error', () => {});
      kill(client);
      return;
    }
    if (isStalled) {
      track(client); // held silently: the client's connect succeeds, nothing ever answers
      client.pause();
      return;
    }
    accepted++;
    track(client);
    const upstream = createConnection({ host: target.host, port: target.port, noDelay: true });
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    // Either side going away takes the other one with it, as a real dead server would.
    client.on('close', () => kill(upstream));
    upstream.on('close', () => kill(client));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('tcp proxy: no port');

  return {
    host: '127.0.0.1',
    port: address.port,
    get isDown() {
      return isDown;
    },
    get isStalled() {
      return isStalled;
    },
    get accepted() {
      return accepted;
    },
    down() {
      isDown = true;
      for (const s of [...open]) kill(s);
    },
    stall() {
      isStalled = true;
      for (const s of open) {
        s.unpipe();
        s.pause();
      }
    },
    up() {
      if (isStalled) for (const s of [...open]) kill(s);
      isDown = false;
      isStalled = false;
    },
    async close() {
      isDown = true;
      for (const s of [...open]) kill(s);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `postgres://u@host:5432/db` → the same URL with host:port replaced (for pointing a client at a proxy). */
export function rewriteUrl(url: string, host: string, port: number): string {
  const u = new URL(url);
  u.hostname = host;
  u.port = String(port);
  return u.toString();
}

/** host and port of a postgres:// or redis:// URL (default ports filled in). */
export function hostPortOf(url: string): { host: string; port: number } {
  const u = new URL(url);
  const defaults: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379, 'rediss:': 6379 };
  return { host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : (defaults[u.protocol] ?? 0) };
}
