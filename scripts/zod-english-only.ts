import { dirname, join } from 'node:path';
import type { Plugin } from 'esbuild';

/**
 * zod v4 re-exports every locale (`z.locales`, 62 languages besides English, ~360 KB of the bundle) from its
 * classic and core entry points, and esbuild keeps a namespace re-export whole. The API only
 * speaks English (zod configures `en` itself, from its own import of locales/en.js), so the
 * locales index is replaced by one that exports `en` alone. Code that reached for another locale
 * through `z.locales.xx` would get undefined: there is none, and the edge test would show it.
 */
export const zodEnglishOnly: Plugin = {
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
