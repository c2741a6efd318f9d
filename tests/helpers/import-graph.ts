/**
 * The layer fence (docs/adr/0009-layers.md): read the import graph of lib/ and api/ and report
 * imports that run upward and import circles. TypeScript's own pre-processor reads the imports, so
 * `import type`, `export … from`, `import('…')` and `typeof import('…')` all count (a type-only
 * import still ties the layers together, and it is how the old app.ts ↔ http/auth.ts circle
 * hid), while comments and strings do not.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** File (repo-relative, posix) → what it imports: repo-relative .ts paths for local files, package names otherwise. */
export type ImportGraph = Map<string, string[]>;

/** Every module specifier in a source text, type-only and dynamic imports included. */
export function importSpecifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** `./x.js` from `lib/a/b.ts` → `lib/a/x.ts`; a package specifier stays as written. */
export function resolveSpecifier(from: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  const target = posix.normalize(posix.join(posix.dirname(from), specifier));
  return target.endsWith('.js') ? `${target.slice(0, -3)}.ts` : target;
}

/** The graph of every .ts file under `dirs` (relative to `root`). */
export function readImportGraph(root: string, dirs: readonly string[]): ImportGraph {
  const graph: ImportGraph = new Map();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) {
        const file = relative(root, path).split(sep).join('/');
        graph.set(file, [...new Set(importSpecifiers(readFileSync(path, 'utf8')).map((s) => resolveSpecifier(file, s)))]);
      }
    }
  };
  for (const dir of dirs) walk(join(root, dir));
  return graph;
}

/** A rule: files matched by `from` must not import anything matched by `forbid` (which may ask who imports). */
export interface LayerRule {
  name: string;
  from: (file: string) => boolean;
  forbid: (target: string, file: string) => boolean;
}

/** Matches a file inside one of these folders, or one of these exact files. */
export const under =
  (...prefixes: string[]) =>
  (path: string) =>
    prefixes.some((p) => (p.endsWith('.ts') ? path === p : path.startsWith(`${p}/`)));

/** Matches a package and its subpaths (`hono`, `hono/cors`) or a `node:` builtin prefix. */
export const pkg =
  (...names: string[]) =>
  (target: string) =>
    names.some((n) => (n.endsWith(':') ? target.startsWith(n) : target === n || target.startsWith(`${n}/`)));

export const either =
  (...tests: Array<(s: string) => boolean>) =>
  (s: string) =>
    tests.some((t) => t(s));

/** "file → target (rule)" for every import that breaks a rule, sorted. */
export function layerViolations(graph: ImportGraph, rules: readonly LayerRule[]): string[] {
  const out: string[] = [];
  for (const [file, targets] of graph) {
    for (const rule of rules) {
      if (!rule.from(file)) continue;
      for (const target of targets) if (rule.forbid(target, file)) out.push(`${file} → ${target} (${rule.name})`);
    }
  }
  return out.sort();
}

/**
 * Import circles among the graph's own files (Tarjan's strongly connected components): every
 * component of more than one file, and every file that imports itself, each as a sorted list.
 */
export function importCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue; // a package, or a file outside the scanned folders
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The repository root (this file is tests/helpers/import-graph.ts). */
export function repoRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..');
}
