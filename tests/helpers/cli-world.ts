/**
 * The command line's world for tests: the real local server (`node --import tsx server.ts`, as
 * `npm start` runs it) on the test database, and the real binary (`node bin/sessionlog.mjs`) run as
 * a child process against it. Call inside a describe block: it registers beforeAll/afterAll.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { ADMIN_TOKEN } from './deps.js';
import { startLocalServer } from './local-server.js';
import { TEST_DATABASE_URL } from './servers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const VAPI_SECRET = `vapi-${crypto.randomUUID()}`;
export const CRON_SECRET = `cron-${crypto.randomUUID()}`;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A running CLI process whose output can be awaited. */
export interface Live {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  waitFor: (what: RegExp, stream?: 'stdout' | 'stderr', ms?: number) => Promise<void>;
  done: Promise<Run>;
}

export function cliWorld() {
  let server: ChildProcess;
  let url = '';
  const dataDir = `/tmp/sessionlog-cli-${crypto.randomUUID()}`;

  beforeAll(async () => {
    const env: Record<string, string> = {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: TEST_DATABASE_URL ?? '',
      ADMIN_TOKEN,
      VAPI_WEBHOOK_SECRET: VAPI_SECRET,
      CRON_SECRET,
      DATA_DIR: dataDir,
      // Idle sessions end when a test sweeps (cli-demo.test.ts), at a known moment, not after whichever request comes next.
      TRAFFIC_SWEEP_SECONDS: '0',
    };
    for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k];
    const started = await startLocalServer(env, 30_000);
    server = started.proc;
    url = started.url;
  });

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Only what is listed reaches the child: no ADMIN_TOKEN or SESSIONLOG_* from the test runner. */
  function childEnv(extra: Record<string, string>): Record<string, string> {
    const env: Record<string, string> = { SESSIONLOG_URL: url, SESSIONLOG_TOKEN: ADMIN_TOKEN, DATA_DIR: dataDir, ...extra };
    for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k]) env[k] = process.env[k];
    return env;
  }

  function start(args: string[], extra: Record<string, string> = {}, cmd: string[] = [process.execPath, 'bin/sessionlog.mjs']): Live {
    const [exe = process.execPath, ...pre] = cmd;
    const proc = spawn(exe, [...pre, ...args], { cwd: ROOT, env: childEnv(extra), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const waiters: Array<() => void> = [];
    proc.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString();
      for (const w of waiters) w();
    });
    proc.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
      for (const w of waiters) w();
    });
    const done = new Promise<Run>((resolve) => proc.once('close', (code) => resolve({ code, stdout, stderr })));
    return {
      proc,
      out: () => stdout,
      err: () => stderr,
      done,
      waitFor: (what, stream = 'stdout', ms = 10_000) =>
        new Promise<void>((resolve, reject) => {
          const text = () => (stream === 'stdout' ? stdout : stderr);
          const timer = setTimeout(() => reject(new Error(`no ${what} on ${stream} in ${ms} ms:\nstdout:\n${stdout}\nstderr:\n${stderr}`)), ms);
          const check = () => {
            if (what.test(text())) {
              clearTimeout(timer);
              resolve();
            }
          };
          waiters.push(check);
          check();
        }),
    };
  }

  const cli = (args: string[], extra: Record<string, string> = {}) => start(args, extra).done;

  const api = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(url + path, { ...init, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', ...init.headers } });
    expect(res.ok, `${path}: ${res.status} ${await res.clone().text()}`).toBe(true);
    return res.json() as Promise<Record<string, unknown>>;
  };

  return {
    url: () => url,
    start,
    cli,
    api,
  };
}
