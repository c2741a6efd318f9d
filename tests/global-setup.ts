/**
 * Once per run (per project, as each project inherits the root config's globalSetup): a folder
 * for what several test files of the run build and share (tests/helpers/shared-build.ts), emptied
 * and removed when the run ends. Nothing is built here: the first file that asks builds, so a run
 * of other files pays nothing. It is under dist/ (ignored by git), not the OS temp folder:
 * miniflare loads a worker script only from within the working directory.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    sharedBuildDir: string;
  }
}

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));

export default function setup(project: TestProject) {
  mkdirSync(DIST, { recursive: true });
  const dir = mkdtempSync(join(DIST, 'test-run-'));
  project.provide('sharedBuildDir', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
