/**
 * Builds several test files of one run need, made once per run instead of once per file: the
 * Vercel Build Output (tests/unit/vercel-build.test.ts, tests/unit/cold-start.test.ts: nine esbuild
 * bundles, 10-35 s each time) and the worker bundle (the three tests/edge suites). They go in the
 * run's folder (tests/global-setup.ts), which the run removes at its end; nothing is reused from
 * an earlier run, so a test never sees a build of other sources.
 *
 * Test files run in parallel worker processes: the first to ask takes a lock (a directory, created
 * atomically) and builds; the others wait for its result file. If the builder fails, it drops the
 * lock and the next one builds (and fails with the same error, in its own test file); if it dies,
 * a waiter sees its pid gone and takes over.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { type BuildOutput, buildVercelOutput } from '../../scripts/build-vercel.js';
import { buildWorker } from '../../scripts/build-worker.js';

const WAIT_MS = 300_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `build(dir)` once per run under `name`; every caller gets the first one's JSON result. */
async function once<T>(name: string, build: (dir: string) => Promise<T>): Promise<T> {
  const root = inject('sharedBuildDir');
  if (!root) throw new Error('no sharedBuildDir: tests/global-setup.ts is not in the vitest config');
  const dir = join(root, name);
  const done = join(root, `${name}.json`);
  const lock = join(root, `${name}.lock`);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      return JSON.parse(await readFile(done, 'utf8')) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    let mine = false;
    try {
      await mkdir(lock);
      mine = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (mine) {
      try {
        await writeFile(join(lock, 'pid'), String(process.pid));
        await rm(dir, { recursive: true, force: true });
        const value = await build(dir);
        await writeFile(`${done}.${process.pid}`, JSON.stringify(value));
        await rename(`${done}.${process.pid}`, done);
        return value;
      } finally {
        await rm(lock, { recursive: true, force: true });
      }
    }
    const holder = Number(await readFile(join(lock, 'pid'), 'utf8').catch(() => '0'));
    if (holder && !alive(holder)) await rm(lock, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`waited ${WAIT_MS / 1000} s for another test file's ${name} build (${lock})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `npm run build:vercel`'s output (scripts/build-vercel.ts), built once per run. Read it, do not change it. */
export function sharedVercelOutput(): Promise<BuildOutput> {
  return once('vercel-output', (dir) => buildVercelOutput(dir));
}

/** worker.ts bundled for workerd (scripts/build-worker.ts), built once per run: the file's path. */
export function sharedWorker(): Promise<string> {
  return once('worker', async (dir) => {
    await mkdir(dir, { recursive: true });
    return buildWorker(join(dir, 'worker.js'));
  });
}
