/**
 * `npm start` on a port something else holds (most often a first `npm start` still running): one
 * line saying so and what to change, exit 1, and the embedded database left unopened — it was an
 * unhandled 'error' event with Node's stack trace, after opening `.data/pglite` beside the running
 * server's and applying migrations to it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCanListen, ListenError } from '../../lib/node/listen.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let holder: Server;
let port: number;
beforeAll(async () => {
  holder = createServer();
  await new Promise<void>((resolve) => holder.listen({ port: 0, host: '127.0.0.1' }, resolve));
  port = (holder.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

function run(env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    }),
  );
}

describe('the local server on an address it cannot take', () => {
  it('says the port is in use and exits 1 before opening its storage', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'sl-listen-')), 'data');
    const { code, out } = await run({ ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, DATABASE_URL: '' });
    expect(out.trim()).toBe(`sessionlog: port ${port} is already in use (another npm start?): stop what listens there, or set PORT to a free port`);
    expect(code).toBe(1);
    // The tokens are made (they live in DATA_DIR), the database is not opened.
    expect(existsSync(join(dataDir, 'pglite'))).toBe(false);
  }, 90_000);

  it('checkCanListen refuses a held port with that message, and lets a free one and port 0 through', async () => {
    await expect(checkCanListen(port, '127.0.0.1')).rejects.toThrow(ListenError);
    await expect(checkCanListen(port, '127.0.0.1')).rejects.toThrow(`port ${port} is already in use`);
    await expect(checkCanListen(0, '127.0.0.1')).resolves.toBeUndefined();
    const free = createServer();
    await new Promise<void>((resolve) => free.listen({ port: 0, host: '127.0.0.1' }, resolve));
    const freePort = (free.address() as { port: number }).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    await expect(checkCanListen(freePort, '127.0.0.1')).resolves.toBeUndefined();
  });
});
