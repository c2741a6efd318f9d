/**
 * Bundle worker.ts for workerd / Cloudflare Workers: one ESM file, browser-style platform with the
 * `workerd`/`worker` export conditions, and no Node built-ins (the bundle fails if lib/ pulls one in).
 */
import { build } from 'esbuild';

export async function buildWorker(outfile = 'dist/worker.js'): Promise<string> {
  // The OpenAPI document, built here once instead of in a worker request (lib/openapi.ts).
  const { openApiDocument } = await import('../lib/openapi-document.js');
  await build({
    define: { __SESSIONLOG_OPENAPI__: JSON.stringify(JSON.stringify(openApiDocument())) },
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
    // workerd's built-in modules (worker.ts reads its bindings from cloudflare:workers).
    external: ['cloudflare:*'],
  });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await buildWorker(process.argv[2]);
  console.log(`built ${out}`);
}
