#!/usr/bin/env node
// The `sessionlog` bin: runs cli/main.ts from a bundle compiled on first use and kept while its
// sources are unchanged (bin/cli-cache.mjs); through tsx (a runtime dependency) when no bundle can
// be had, or with SESSIONLOG_CLI_CACHE=off. No build step either way.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cliBundle } from './cli-cache.mjs';

const bundle = process.env.SESSIONLOG_CLI_CACHE === 'off' ? undefined : await cliBundle(fileURLToPath(new URL('..', import.meta.url)));
if (bundle) {
  await import(pathToFileURL(bundle).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
