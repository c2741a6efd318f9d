/**
 * Bundle worker.ts for workerd / Cloudflare Workers: one ESM file, browser-style platform with the
 * `workerd`/`worker` export conditions, and no Node built-ins (the bundle fails if lib/ pulls one in).
 */
import { dirname, join } from 'node:path';
import { build, type Plugin } from 'esbuild';

/**
 * zod v4 re-exports every locale (`z.locales`, ~50 languages, ~360 KB of the bundle) from its
 * classic and core entry points, and esbuild keeps a namespace re-export whole. The API only
 * speaks English (zod configures `en` itself, from its own import of locales/en.js), so the
 * locales index is replaced by one that exports `en` alone. Code that reached for another locale
 * through `z.locales.xx` would get undefined: there is none, and the edge test would show it.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)$/.test(args.resolveDir)
        ? { path: join(dirname(args.resolveDir), 'locales', 'en.js'), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

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
    plugins: [zodEnglishOnly],
    // workerd's built-in modules (worker.ts reads its bindings from cloudflare:workers).
    external: ['cloudflare:*'],
  });
  return outfile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await buildWorker(process.argv[2]);
  console.log(`built ${out}`);
}
