/**
 * The real local server as `npm start` runs it (`node --import tsx server.ts`), as a child process
 * for tests that need a process of their own: its sockets, its /proc, killing it. Resolves once it
 * prints where it listens (the caller passes PORT 0 and gets the port back).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface LocalServer {
  proc: ChildProcess;
  /** `http://127.0.0.1:<port>` as the server printed it. */
  url: string;
  port: number;
  /** Settles when the process has exited, whatever the signal. */
  exited: Promise<void>;
}

/** Start `server.ts` with exactly `env` (pass `...process.env` to inherit); fail after `timeoutMs` or if it exits first. */
export async function startLocalServer(env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<LocalServer> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs / 1000} s:\n${out}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /sessionlog listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${out}`));
    });
  });
  return { proc, url, port: Number(new URL(url).port), exited };
}
