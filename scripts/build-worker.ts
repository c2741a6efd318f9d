/**
 * Bundle worker.ts for workerd / Cloudflare Workers: one ESM file, browser-style platform with the
 * `workerd`/`worker` export conditions, and no Node built-ins (the bundle fails if lib/ pulls one in).
 */
import { build } from 'esbuild';

export async function buildWorker(outfile = 'dist/worker.js'): Promise<string> {
  await build({
    entryPoints: ['worker.ts'],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    minify: false,
    sourcemap: false,
    logLevel: 'warning',
  });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await buildWorker(process.argv[2]);
  console.log(`built ${out}`);
}
