/**
 * Bundle one Vercel function (api/*.ts) with esbuild: what `npm run build:vercel` ships
 * (scripts/build-vercel.ts) and what the `cold` bench group starts. A Node serverless bundle:
 * node platform, every package inlined except Node built-ins and pg's optional native binding
 * (which @vercel/nft never traces either, scripts/vercel-trace.ts). Code splitting is on so a
 * dynamic `import()` stays a separate file loaded only when reached, as in the zero-config
 * deploy's unbundled files (each module read on first import): that is the point of the lazy
 * imports in lib/node/deps.ts, lib/openapi.ts and lib/http/traffic-sweep.ts (ADR 0020).
 *
 * The files are CommonJS (ADR 0029): Vercel caches the bytecode of CommonJS files after their
 * first run and reuses it at later cold starts, and does not for ES modules. esbuild splits only
 * ES modules, so the split output is converted file by file: each chunk becomes a `.cjs` file that
 * `require`s the chunks it imported, and a dynamic `import()` of a chunk becomes a `require` run
 * when reached (in a later turn of the event loop, as `import()`), so the lazy chunks stay lazy.
 * Used by the `cold` bench group and tests/unit/cold-start.test.ts (which checks what a cold
 * start loads, untimed).
 */
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, transform } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Bundle {
  /** The entry file to import. */
  file: string;
  /** Bytes node must read and compile before the first request: the entry and its static imports. */
  eagerBytes: number;
  /** Every chunk, lazy ones included. */
  totalBytes: number;
  /** Source files (relative to the project) compiled before the first request. */
  eagerInputs: string[];
  /** Every source file in the bundle, lazy chunks included. */
  inputs: string[];
}

/** The file a function's `.vc-config.json` names as its handler. */
export const HANDLER = 'index.cjs';

/**
 * The handler only hands over the door from `main.cjs`, through a require of Node's CommonJS
 * loader made for it. A launcher may `import()` the handler (Vercel's dev server does); Node then
 * scans the file for named exports (cjs-module-lexer) and gives it a `require` that sends every
 * file it loads through the ES module loader, which scans each of those too: 12 ms of a health
 * check's cold start here. `createRequire` loads main.cjs and its chunks as plain CommonJS
 * whichever way the handler came in, and reading `.default` gives the door itself.
 */
const HANDLER_SOURCE = `'use strict';
// The door (api/*.ts, bundled into main.cjs and its chunks: scripts/bundle-function.ts, ADR 0029).
module.exports = require('node:module').createRequire(__filename)('./main.cjs').default;
`;

/**
 * What each converted file starts with: strict mode (the ES modules were strict), its own
 * `import.meta.url` (lib/node/migrations.ts reads it), and how a chunk that the ES module source
 * `import()`ed is loaded: by `require`, in a later turn of the event loop, as `import()` reads its
 * file first. A `require` in the same turn would compile and run a background task's chunk (the
 * sweep after a request, say) before the request's own answer goes out.
 */
const CHUNK_BANNER = `'use strict';
const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;
const __importChunk = (id) => new Promise((resolve) => setImmediate(resolve)).then(() => require(id));`;

/** One ES module chunk → CommonJS, in place. */
async function toCommonJs(file: string): Promise<void> {
  const { code } = await transform(await readFile(file, 'utf8'), {
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    define: { 'import.meta.url': '__importMetaUrl' },
    banner: CHUNK_BANNER,
    legalComments: 'none',
    logLevel: 'error',
  });
  // A chunk's import() left as is would go through Node's ES module loader, which scans the
  // CommonJS file for export names and loads what it requires the same way.
  await writeFile(file, code.replace(/\bimport\((["'])(\.\/[\w.-]+\.cjs)\1\)/g, '__importChunk("$2")'));
}

/**
 * `root`: the checkout to bundle from (the bench compares against another one, COLD_BASELINE).
 * `dirName`: the folder under `outRoot` (scripts/build-vercel.ts names it `<fn>.func`).
 */
export async function bundleFunction(entry: string, outRoot = join(ROOT, 'dist', 'cold'), root = ROOT, dirName = basename(entry, '.ts')): Promise<Bundle> {
  const outdir = join(outRoot, dirName);
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  // Split as ES modules (esbuild splits no other format), named .cjs already so the chunks'
  // imports of each other name the files they will be; then each file is converted in place.
  const { metafile } = await build({
    entryPoints: { main: join(root, entry) },
    absWorkingDir: root,
    outdir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['pg-native'],
    legalComments: 'none',
    metafile: true,
    logLevel: 'error',
  });
  await Promise.all(Object.keys(metafile.outputs).map((path) => toCommonJs(join(root, path))));
  const file = join(outdir, HANDLER);
  await writeFile(file, HANDLER_SOURCE);
  return { file, ...(await sizes(metafile, join(outdir, 'main.cjs'), root)) };
}

/** Bytes as written (after the conversion), the handler included; inputs from esbuild's metafile. */
async function sizes(meta: Metafile, entry: string, root: string): Promise<Omit<Bundle, 'file'>> {
  // Paths in the metafile are relative to the working directory esbuild ran in (root).
  const outputs = new Map(Object.entries(meta.outputs).map(([path, o]) => [join(root, path), o]));
  const eager = new Set<string>();
  const visit = (path: string) => {
    if (eager.has(path)) return;
    eager.add(path);
    for (const i of outputs.get(path)?.imports ?? []) if (i.kind === 'import-statement' && !i.external) visit(join(root, i.path));
  };
  if (!outputs.has(entry)) throw new Error(`esbuild wrote no ${entry}`);
  visit(entry);
  const handler = Buffer.byteLength(HANDLER_SOURCE);
  let eagerBytes = handler;
  let totalBytes = handler;
  const inputs = new Set<string>();
  for (const [path, o] of outputs) {
    const bytes = (await stat(path)).size;
    totalBytes += bytes;
    if (!eager.has(path)) continue;
    eagerBytes += bytes;
    for (const [input, i] of Object.entries(o.inputs)) if (i.bytesInOutput > 0) inputs.add(relative(root, join(root, input)));
  }
  return { eagerBytes, totalBytes, eagerInputs: [...inputs].sort(), inputs: Object.keys(meta.inputs).sort() };
}

