/**
 * `npm run vercel:size`: the files and bytes Vercel would put into each function, traced the way
 * its Node builder does (@vercel/nft over the TypeScript door, TypeScript transpiled on read,
 * `.js` import specifiers resolved to the `.ts` source) plus vercel.json's `includeFiles`.
 * tests/unit/vercel-size.test.ts holds every function under the budget.
 */
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { resolve as nftResolve, nodeFileTrace } from '@vercel/nft';
import { transform } from 'esbuild';

export interface FunctionTrace {
  /** `api/sessions.ts` */
  entry: string;
  bytes: number;
  files: string[];
}

/**
 * Vercel's own limit is 250 MB unzipped; ours keeps cold starts short: 5 MB. Every function traces
 * about 4.85 MB today: each can run the sweep by traffic, which starts analyses, so each carries the
 * OpenAI client (~1 MB). A prebuilt function (`npm run build:vercel`, ADR 0025) is one 2.2 MB bundle.
 */
export const BUDGET_BYTES = 5 * 1024 * 1024;

/** Every Vercel function (api/*.ts); `entries` traces other files the same way (tests). */
export async function traceVercelFunctions(root = process.cwd(), entries = readdirSync(join(root, 'api')).filter((f) => f.endsWith('.ts')).map((f) => join(root, 'api', f))): Promise<FunctionTrace[]> {
  const out: FunctionTrace[] = [];
  const cache = {};
  for (const entry of entries) {
    const { fileList } = await nodeFileTrace([entry], {
      base: root,
      cache,
      ts: true,
      mixedModules: true,
      async readFile(path) {
        const text = await readFile(path, 'utf8').catch(() => null);
        if (text === null || !/\.[cm]?ts$/.test(path) || path.endsWith('.d.ts')) return text;
        return (await transform(text, { loader: 'ts', format: 'esm', target: 'node20' })).code;
      },
      async resolve(id, parent, job, cjs) {
        try {
          return await nftResolve(id, parent, job, cjs);
        } catch (err) {
          // The sources import `./x.js` for `./x.ts` (TypeScript's NodeNext rule); Vercel's
          // builder compiles first, so the `.ts` file is what it ships.
          if (id.startsWith('.') && id.endsWith('.js')) return nftResolve(`${id.slice(0, -3)}.ts`, parent, job, cjs);
          throw err;
        }
      },
    });
    const files = [...fileList].filter((f) => statSync(join(root, f)).isFile());
    // vercel.json `includeFiles: session.config.*` adds the optional config file when present.
    for (const f of readdirSync(root)) if (f.startsWith('session.config.')) files.push(f);
    const bytes = files.reduce((n, f) => n + statSync(join(root, f)).size, 0);
    out.push({ entry: relative(root, entry), bytes, files: files.sort() });
  }
  return out;
}

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`;

if (import.meta.url === `file://${process.argv[1]}`) {
  const traces = await traceVercelFunctions();
  for (const t of traces) {
    const top = new Map<string, number>();
    for (const f of t.files) {
      const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1] ?? f.split('/')[0] ?? f;
      top.set(pkg, (top.get(pkg) ?? 0) + statSync(f).size);
    }
    const biggest = [...top].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([p, n]) => `${p} ${mb(n)}`);
    console.log(`${t.entry.padEnd(22)} ${mb(t.bytes).padStart(9)}  ${String(t.files.length).padStart(4)} files  (${biggest.join(', ')})`);
  }
  const over = traces.filter((t) => t.bytes > BUDGET_BYTES);
  if (over.length) {
    console.error(`over the ${mb(BUDGET_BYTES)} budget: ${over.map((t) => t.entry).join(', ')}`);
    process.exit(1);
  }
}
