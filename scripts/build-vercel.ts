/**
 * `npm run build:vercel`: the deployment in Vercel's Build Output API (v3) layout, in
 * `.vercel/output`, for `vercel deploy --prebuilt` (ADR 0025). Each function is one esbuild bundle
 * (scripts/bundle-function.ts) instead of the files Vercel's Node builder traces and ships one by
 * one, node_modules included, to be read and compiled module by module at every cold start.
 *
 *   .vercel/output/config.json               vercel.json's redirects, headers and rewrites as
 *                                            routes (converted by Vercel's own
 *                                            @vercel/routing-utils), and its crons
 *   .vercel/output/static/                   public/ (dashboard, browser client, demo)
 *   .vercel/output/functions/api/<fn>.func/  the bundle of api/<fn>.ts (index.cjs, main.cjs and its
 *                                            chunks: CommonJS, ADR 0029),
 *                                            .vc-config.json, and session.config.* when present
 *                                            (vercel.json's includeFiles)
 *
 * The doors are bundled unchanged, so each function exports what the zero-config deploy's does
 * (`{ fetch }`), and config.json and each .vc-config.json say what `vercel build` writes for the
 * zero-config project (checked against Vercel CLI 59.25.4, run offline on this repository; ADR
 * 0025): the same routes, crons, launcher, runtime and maxDuration. Only the handler differs.
 */
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getTransformedRoutes } from '@vercel/routing-utils';
import { bundleFunction, HANDLER } from './bundle-function.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The Node.js line Vercel gives the zero-config functions: the newest it offers within
 * package.json's `engines` (`>=20.19 <25`), which `vercel build` reports as 24.x.
 */
export const RUNTIME = 'nodejs24.x';

/**
 * Routes the zero-config build appends after vercel.json's (`vercel build` 59.25.4 writes exactly
 * these for a project with functions in api/): an /api path no function or rewrite took answers
 * 404, other misses get the error page, and `/api/<fn>.ts` reaches the function too.
 */
const ZERO_CONFIG_TAIL: ReadonlyArray<Record<string, unknown>> = [
  { src: '^/api(/.*)?$', status: 404 },
  { handle: 'error' },
  { status: 404, src: '^(?!/api).*$', dest: '/404.html' },
  { handle: 'miss' },
  { src: '^/api/(.+)(?:\\.(?:ts))$', dest: '/api/$1', check: true },
];

/** Cloudflare's static-asset headers file (public/_headers): Vercel takes its headers from config.json. */
const NOT_STATIC = new Set(['_headers']);

interface VercelJson {
  rewrites?: unknown[];
  redirects?: unknown[];
  headers?: unknown[];
  cleanUrls?: boolean;
  trailingSlash?: boolean;
  crons?: Array<{ path: string; schedule: string }>;
  functions?: Record<string, { maxDuration?: number; memory?: number }>;
}

export interface BuiltFunction {
  /** `api/health`: the path it answers, and its folder under functions/ without `.func`. */
  name: string;
  dir: string;
  /** Bytes of the entry and its static imports: what a cold start reads and compiles. */
  eagerBytes: number;
  totalBytes: number;
  /** Source files compiled before the first request, and every source file in the bundle (scripts/bundle-function.ts). */
  eagerInputs: string[];
  inputs: string[];
}

export interface BuildOutputConfig {
  version: 3;
  routes: Array<Record<string, unknown>>;
  crons?: Array<{ path: string; schedule: string }>;
}

export interface BuildOutput {
  dir: string;
  functions: BuiltFunction[];
  config: BuildOutputConfig;
}

/** Write the Build Output of the checkout at `root` into `out` (emptied first). */
export async function buildVercelOutput(out = join(ROOT, '.vercel', 'output'), root = ROOT): Promise<BuildOutput> {
  const vercel = JSON.parse(await readFile(join(root, 'vercel.json'), 'utf8')) as VercelJson;
  const { routes, error } = getTransformedRoutes({
    rewrites: vercel.rewrites as never,
    redirects: vercel.redirects as never,
    headers: vercel.headers as never,
    cleanUrls: vercel.cleanUrls,
    trailingSlash: vercel.trailingSlash,
  });
  if (error || !routes) throw new Error(`vercel.json: ${error?.message ?? 'no routes'}`);
  const fn = vercel.functions?.['api/*.ts'] ?? {};

  await rm(out, { recursive: true, force: true });
  await mkdir(join(out, 'functions', 'api'), { recursive: true });
  await cp(join(root, 'public'), join(out, 'static'), { recursive: true, filter: (src) => !NOT_STATIC.has(basename(src)) });

  const includes = (await readdir(root)).filter((f) => f.startsWith('session.config.'));
  const doors = (await readdir(join(root, 'api'))).filter((f) => f.endsWith('.ts')).sort();
  const functions: BuiltFunction[] = [];
  for (const door of doors) {
    const name = `api/${basename(door, '.ts')}`;
    const bundle = await bundleFunction(`api/${door}`, join(out, 'functions', 'api'), root, `${basename(door, '.ts')}.func`);
    const dir = join(out, 'functions', `${name}.func`);
    for (const f of includes) await cp(join(root, f), join(dir, f));
    // What `vercel build` writes for the zero-config function, but the handler (and no source maps).
    const vc = {
      handler: HANDLER,
      runtime: RUNTIME,
      architecture: 'x86_64',
      ...(fn.maxDuration ? { maxDuration: fn.maxDuration } : {}),
      ...(fn.memory ? { memory: fn.memory } : {}),
      environment: {},
      shouldDisableAutomaticFetchInstrumentation: false,
      launcherType: 'Nodejs',
      shouldAddHelpers: true,
      shouldAddSourcemapSupport: false,
      awsLambdaHandler: '',
    };
    await writeFile(join(dir, '.vc-config.json'), `${JSON.stringify(vc, null, 2)}\n`);
    functions.push({ name, dir, eagerBytes: bundle.eagerBytes, totalBytes: bundle.totalBytes, eagerInputs: bundle.eagerInputs, inputs: bundle.inputs });
  }

  const config: BuildOutputConfig = {
    version: 3,
    routes: [...(routes as BuildOutputConfig['routes']), ...ZERO_CONFIG_TAIL],
    ...(vercel.crons?.length ? { crons: vercel.crons } : {}),
  };
  await writeFile(join(out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return { dir: out, functions, config };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const built = await buildVercelOutput(process.argv[2]);
  const kb = (n: number) => `${Math.round(n / 1024).toLocaleString('en-US')} KB`;
  for (const f of built.functions) console.log(`${f.name.padEnd(16)} loaded at start ${kb(f.eagerBytes).padStart(8)}, all chunks ${kb(f.totalBytes).padStart(9)}`);
  console.log(`wrote ${built.dir}: ${built.functions.length} functions, ${built.config.routes.length} routes, ${built.config.crons?.length ?? 0} crons`);
  console.log('deploy it with: npx vercel deploy --prebuilt');
}
