/**
 * Bundle one Vercel function (api/*.ts) with esbuild: what `npm run build:vercel` ships
 * (scripts/build-vercel.ts) and what the `cold` bench group starts. A Node serverless bundle:
 * node platform, ESM, every package inlined except Node built-ins and pg's optional native
 * binding (which @vercel/nft never traces either, scripts/vercel-trace.ts). Code splitting is on
 * so a dynamic `import()` stays a separate file loaded only when reached, as in the zero-config
 * deploy's unbundled files (each module read on first import): that is the point of the lazy imports in lib/node/deps.ts, lib/openapi.ts and
 * lib/http/traffic-sweep.ts (ADR 0020). Used by the `cold` bench group and
 * tests/unit/cold-start.test.ts (which checks what a cold start loads, untimed).
 */
import { mkdir, rm } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

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

/** CJS packages inside an ESM bundle call require() for built-ins: give them one. */
const BANNER = "import { createRequire as __coldRequire } from 'node:module'; const require = __coldRequire(import.meta.url);";

/**
 * `root`: the checkout to bundle from (the bench compares against another one, COLD_BASELINE).
 * `dirName`: the folder under `outRoot` (scripts/build-vercel.ts names it `<fn>.func`).
 */
export async function bundleFunction(entry: string, outRoot = join(ROOT, 'dist', 'cold'), root = ROOT, dirName = basename(entry, '.ts')): Promise<Bundle> {
  const outdir = join(outRoot, dirName);
  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const { metafile } = await build({
    entryPoints: { index: join(root, entry) },
    absWorkingDir: root,
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['pg-native'],
    banner: { js: BANNER },
    legalComments: 'none',
    metafile: true,
    logLevel: 'error',
  });
  const file = join(outdir, 'index.mjs');
  return { file, ...sizes(metafile, file, root) };
}

function sizes(meta: Metafile, entry: string, root: string): Omit<Bundle, 'file'> {
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
  let eagerBytes = 0;
  let totalBytes = 0;
  const inputs = new Set<string>();
  for (const [path, o] of outputs) {
    totalBytes += o.bytes;
    if (!eager.has(path)) continue;
    eagerBytes += o.bytes;
    for (const [input, i] of Object.entries(o.inputs)) if (i.bytesInOutput > 0) inputs.add(relative(root, join(root, input)));
  }
  return { eagerBytes, totalBytes, eagerInputs: [...inputs].sort(), inputs: Object.keys(meta.inputs).sort() };
}

