/**
 * The functions as Vercel's zero-config deploy ships them (`git push`, no `build:vercel`): its Node
 * builder compiles each TypeScript file on its own and traces the files it imports (@vercel/nft),
 * node_modules included, into the function, unbundled: a cold start reads, compiles and links each
 * module as a separate file. Emulated here by transpiling api/ and lib/ file by file into
 * dist/zero-config (the sources' `./x.js` specifiers then name the compiled files), where bare
 * imports resolve to this checkout's node_modules as they would to the function's copy.
 * For the `cold` bench group's comparison with the prebuilt bundles (ADR 0025). Checked against the
 * function `vercel build` (CLI 59.25.4) writes for api/health.ts: 413–441 ms of CPU to its first
 * answer, this emulation 432–441 ms, on the same machine.
 */
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { build } from 'esbuild';

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Transpile `root`'s api/ and lib/ into `<root>/dist/zero-config`; returns the folder. */
export async function transpileZeroConfig(root: string): Promise<string> {
  const outdir = join(root, 'dist', 'zero-config');
  await rm(outdir, { recursive: true, force: true });
  const entryPoints = [...tsFiles(join(root, 'api')), ...tsFiles(join(root, 'lib'))].map((f) => relative(root, f));
  await build({ entryPoints, absWorkingDir: root, outdir, outbase: '.', bundle: false, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error' });
  // SQL files read at run time by path (lib/node/migrations.ts) are not needed by a function: it never migrates.
  return outdir;
}
