/**
 * The layer fence (docs/adr/0009-layers.md). Imports run downward only: doors → app → routes →
 * HTTP middleware → domain → ports → util. A domain folder that imports Hono, a route, the HTTP
 * middleware or the app, a core module that imports a voice platform, or any import circle fails
 * this test — type-only imports included.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  either,
  type ImportGraph,
  importCycles,
  importSpecifiers,
  type LayerRule,
  layerViolations,
  pkg,
  readImportGraph,
  repoRoot,
  resolveSpecifier,
  under,
} from '../helpers/import-graph.js';

/** Domain folders: plain functions over ports, no HTTP. New domain folders belong here. */
const DOMAIN = [
  'lib/sessions',
  'lib/events',
  'lib/analysis',
  'lib/calls',
  'lib/lifecycle',
  'lib/storage',
  'lib/util',
  'lib/ratelimit',
  'lib/schemas',
  'lib/alerts',
  'lib/attention',
  'lib/audit',
  'lib/progress',
];
/** Modules every layer imports (the dependency bag, the error vocabulary, configuration): they sit under the domain. */
const SHARED = ['lib/deps.ts', 'lib/errors.ts', 'lib/config.ts', 'lib/config-env.ts', 'lib/config-file.ts'];
/** Everything that knows about HTTP: Hono itself, routes, middleware, the app and its doors. */
const HTTP = either(
  pkg('hono', '@hono'),
  under('lib/routes', 'lib/http', 'lib/node', 'lib/app.ts', 'lib/door.ts', 'lib/families.ts', 'lib/openapi.ts'),
);
/** The core knows no voice platform: platforms adapt to the core, not the reverse. */
const CORE = ['lib/sessions', 'lib/events', 'lib/lifecycle', 'lib/storage', 'lib/util', 'lib/ratelimit', 'lib/schemas', 'lib/audit', 'lib/analysis', 'lib/progress'];
/** A voice platform is one adapter folder under the calls seam: lib/calls/<platform>/… */
const platformOf = (path: string): string | undefined => /^lib\/calls\/([^/]+)\/./.exec(path)?.[1];
const PLATFORMS = (path: string) => platformOf(path) !== undefined;
/** The seam's own files (lib/calls/*.ts); only its registry, adapters.ts, names the platforms. */
const SEAM = (path: string) => /^lib\/calls\/[^/]+\.ts$/.test(path) && path !== 'lib/calls/adapters.ts';

const RULES: LayerRule[] = [
  { name: 'domain imports no HTTP', from: under(...DOMAIN, ...SHARED), forbid: HTTP },
  { name: 'core imports no voice platform', from: under(...CORE, ...SHARED), forbid: PLATFORMS },
  { name: 'the calls seam imports no platform but through its registry', from: SEAM, forbid: PLATFORMS },
  // A new voice platform is one folder: it may use the seam, never another platform's files.
  { name: 'a platform imports no other platform', from: PLATFORMS, forbid: (t, file) => PLATFORMS(t) && platformOf(t) !== platformOf(file) },
  { name: 'middleware imports no routes or app', from: under('lib/http'), forbid: under('lib/routes', 'lib/node', 'lib/app.ts', 'lib/door.ts', 'lib/families.ts', 'lib/openapi.ts') },
  { name: 'ports know no domain', from: under('lib/storage', 'lib/ratelimit'), forbid: under(...DOMAIN.filter((d) => d !== 'lib/storage' && d !== 'lib/ratelimit' && d !== 'lib/util')) },
  // Configuration validates prompt overrides against the shipped templates: the one way down into the domain.
  {
    name: 'shared modules import only ports and util',
    from: under(...SHARED),
    forbid: (t) => t.startsWith('lib/') && !under('lib/storage', 'lib/ratelimit', 'lib/util', 'lib/analysis/templates.ts', ...SHARED)(t),
  },
  { name: 'util is a leaf', from: under('lib/util'), forbid: (t) => t.startsWith('lib/') && !t.startsWith('lib/util/') },
  // lib/ runs on Node, Vercel and workerd: Node built-ins only in the Node-only wiring.
  { name: 'Web-standard APIs only', from: (f) => f.startsWith('lib/') && !f.startsWith('lib/node/'), forbid: pkg('node:') },
  // The command line is a client of the HTTP API (ADR 0018): at most the shared zod schemas, never storage or the app.
  { name: 'the command line speaks HTTP only', from: under('cli'), forbid: (t) => t.startsWith('lib/') && !t.startsWith('lib/schemas/') },
];

describe('the layer fence on this repository', () => {
  const graph = readImportGraph(repoRoot(), ['lib', 'api', 'cli']);

  it('reads the real import graph (so the checks below cannot pass on an empty one)', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('lib/app.ts')).toContain('hono');
    expect(graph.get('lib/http/auth.ts')).toContain('lib/http/env.ts'); // a type-only import
    expect(graph.get('api/health.ts')).toContain('lib/node/vercel.ts');
    expect(graph.get('cli/main.ts')).toContain('cli/client.ts');
  });

  it('has no upward import', () => {
    expect(layerViolations(graph, RULES)).toEqual([]);
  });

  it('has no import circle', () => {
    expect(importCycles(graph)).toEqual([]);
  });
});

describe('the fence checker', () => {
  it('reads type-only, re-exported and dynamic imports, and ignores comments and strings', () => {
    const src = [
      "import type { A } from './a.js';",
      "import { type B } from './b.js';",
      "export type { C } from './c.js';",
      "const d = await import('./d.js');",
      "type E = typeof import('./e.js');",
      "import { Hono } from 'hono';",
      "// import x from './commented.js';",
      'const s = "import y from \'./string.js\'";',
    ].join('\n');
    expect(importSpecifiers(src)).toEqual(['./a.js', './b.js', './c.js', './d.js', './e.js', 'hono']);
  });

  it('resolves relative specifiers to repository paths and leaves packages alone', () => {
    expect(resolveSpecifier('lib/calls/vapi/auth.ts', '../../http/auth.js')).toBe('lib/http/auth.ts');
    expect(resolveSpecifier('lib/app.ts', './http/env.js')).toBe('lib/http/env.ts');
    expect(resolveSpecifier('lib/app.ts', 'hono/cors')).toBe('hono/cors');
  });

  it('reports each forbidden import with its rule', () => {
    const g: ImportGraph = new Map([
      ['lib/sessions/a.ts', ['hono', 'lib/util/x.ts', 'lib/calls/vapi/message.ts']],
      ['lib/calls/vapi/auth.ts', ['lib/http/auth.ts', 'node:crypto', 'lib/calls/types.ts', 'lib/calls/vapi/message.ts', 'lib/calls/twilio/sign.ts']],
      ['lib/calls/receive.ts', ['lib/calls/link.ts', 'lib/calls/vapi/index.ts']],
      ['lib/calls/adapters.ts', ['lib/calls/vapi/index.ts', 'lib/calls/twilio/index.ts']],
      ['lib/util/x.ts', ['lib/deps.ts']],
      ['lib/deps.ts', ['lib/http/ratelimit.ts', 'lib/storage/kv.ts', 'lib/sessions/context.ts']],
      ['lib/config.ts', ['lib/analysis/templates.ts', 'lib/config-file.ts']],
      ['lib/http/auth.ts', ['hono', 'lib/app.ts']],
      ['lib/node/deps.ts', ['node:fs', 'lib/http/ratelimit.ts']],
      ['lib/routes/x.ts', ['hono', 'lib/http/auth.ts', 'lib/calls/vapi/message.ts']],
      ['cli/x.ts', ['lib/storage/sql.ts', 'lib/schemas/session.ts', 'node:util', 'cli/client.ts']],
    ]);
    expect(layerViolations(g, RULES)).toEqual([
      'cli/x.ts → lib/storage/sql.ts (the command line speaks HTTP only)',
      'lib/calls/receive.ts → lib/calls/vapi/index.ts (the calls seam imports no platform but through its registry)',
      'lib/calls/vapi/auth.ts → lib/calls/twilio/sign.ts (a platform imports no other platform)',
      'lib/calls/vapi/auth.ts → lib/http/auth.ts (domain imports no HTTP)',
      'lib/calls/vapi/auth.ts → node:crypto (Web-standard APIs only)',
      'lib/deps.ts → lib/http/ratelimit.ts (domain imports no HTTP)',
      'lib/deps.ts → lib/http/ratelimit.ts (shared modules import only ports and util)',
      'lib/deps.ts → lib/sessions/context.ts (shared modules import only ports and util)',
      'lib/http/auth.ts → lib/app.ts (middleware imports no routes or app)',
      'lib/sessions/a.ts → hono (domain imports no HTTP)',
      'lib/sessions/a.ts → lib/calls/vapi/message.ts (core imports no voice platform)',
      'lib/util/x.ts → lib/deps.ts (util is a leaf)',
    ]);
  });

  it('finds circles and self-imports, not diamonds', () => {
    const g: ImportGraph = new Map([
      ['a.ts', ['b.ts', 'hono']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts', 'd.ts']],
      ['d.ts', []],
      ['e.ts', ['e.ts']],
      // a diamond: f → g, f → h, g → i, h → i
      ['f.ts', ['g.ts', 'h.ts']],
      ['g.ts', ['i.ts']],
      ['h.ts', ['i.ts']],
      ['i.ts', ['outside.ts']],
    ]);
    expect(importCycles(g)).toEqual([['a.ts', 'b.ts', 'c.ts'], ['e.ts']]);
  });

  describe('on files written to disk', () => {
    const root = mkdtempSync(join(tmpdir(), 'layers-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };

    it('catches a circle made only of type imports, and a domain file importing middleware', () => {
      write('lib/app.ts', "import type { AppEnv } from './http/auth.js';\nexport const app = 1;\n");
      write('lib/http/auth.ts', "import type { App } from '../app.js';\nexport type AppEnv = { app: App };\n");
      write('lib/calls/vapi/auth.ts', "import { safeEqual } from '../../http/auth.js';\n");
      const g = readImportGraph(root, ['lib']);
      expect(importCycles(g)).toEqual([['lib/app.ts', 'lib/http/auth.ts']]);
      expect(layerViolations(g, RULES)).toEqual([
        'lib/calls/vapi/auth.ts → lib/http/auth.ts (domain imports no HTTP)',
        'lib/http/auth.ts → lib/app.ts (middleware imports no routes or app)',
      ]);
    });
  });
});
