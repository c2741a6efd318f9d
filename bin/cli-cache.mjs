// The command line, compiled once and kept: `bin/sessionlog.mjs` imports cli/main.ts from a bundle
// that esbuild (which tsx brings) writes on first use, and that later runs import directly while none
// of its sources changed. Through tsx's loader every command paid ~0.3 s before its first line
// (Node runs module hooks on a thread of their own); from the bundle a command starts in ~0.15 s
// (ADR 0018, amendment). Plain JavaScript: it runs before anything can compile TypeScript.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Bumped when the way the bundle is built changes, so older bundles are not reused. */
const FORMAT = 1;

/**
 * What makes a source the same file as when the bundle was built: its content (~1 ms for the
 * command line's ~17 files). A size and a time would miss an edit of the same length saved
 * within a coarse file system's timestamp granularity.
 */
const stamp = (file) => createHash('sha256').update(readFileSync(file)).digest('base64url');

/**
 * The bundle in `cacheDir`, when the manifest there names one and every source it lists is
 * unchanged; undefined otherwise.
 */
export function freshBundle(root, cacheDir) {
  try {
    const manifest = JSON.parse(readFileSync(join(cacheDir, 'cli.json'), 'utf8'));
    if (manifest.format !== FORMAT) return undefined;
    for (const [file, was] of Object.entries(manifest.inputs)) if (stamp(join(root, file)) !== was) return undefined;
    const bundle = join(cacheDir, manifest.bundle);
    statSync(bundle);
    return bundle;
  } catch {
    return undefined;
  }
}

/**
 * Bundle `root/cli/main.ts` into `cacheDir` and return the file. Packages stay imports; each
 * module's `import.meta.url` stays its source file's, so paths it derives (the checkout's .data)
 * are the same as under tsx. Written to temporary names and renamed, so a command running beside
 * another that builds never reads half a file.
 */
export async function buildBundle(root, cacheDir) {
  const { build } = await import('esbuild');
  const sourceUrls = {
    name: 'source-urls',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => ({
        contents: readFileSync(args.path, 'utf8').replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
        loader: 'ts',
      }));
    },
  };
  const result = await build({
    absWorkingDir: root,
    entryPoints: [join(root, 'cli', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [sourceUrls],
  });
  const [out] = result.outputFiles;
  const inputs = {};
  for (const file of Object.keys(result.metafile.inputs)) inputs[file] = stamp(join(root, file));
  mkdirSync(cacheDir, { recursive: true });
  const name = `cli-${out.hash.replace(/[^A-Za-z0-9]/g, '')}.mjs`;
  const tmp = `.${process.pid}-${Date.now()}`;
  writeFileSync(join(cacheDir, name + tmp), out.contents);
  renameSync(join(cacheDir, name + tmp), join(cacheDir, name));
  const manifest = { format: FORMAT, bundle: name, inputs };
  writeFileSync(join(cacheDir, `cli.json${tmp}`), JSON.stringify(manifest));
  renameSync(join(cacheDir, `cli.json${tmp}`), join(cacheDir, 'cli.json'));
  // Bundles of earlier sources (a command still running from one has it in memory already).
  for (const f of readdirSync(cacheDir)) if (/^cli-\w+\.mjs$/.test(f) && f !== name) rmSync(join(cacheDir, f), { force: true });
  return join(cacheDir, name);
}

/** The bundle to import (fresh, or built now), or undefined when it cannot be had (then use tsx). */
export async function cliBundle(root, cacheDir = join(root, 'node_modules', '.cache', 'sessionlog')) {
  const fresh = freshBundle(root, cacheDir);
  if (fresh) return fresh;
  try {
    return await buildBundle(root, cacheDir);
  } catch {
    // No esbuild (an install without it), a read-only node_modules: tsx still runs the sources.
    return undefined;
  }
}
