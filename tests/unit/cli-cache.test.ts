/** bin/cli-cache.mjs: the command line's bundle, built on first use and rebuilt when a source changes. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript without types: it runs before anything can compile TypeScript
import { buildBundle, cliBundle, freshBundle } from '../../bin/cli-cache.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'sl-cli-cache-'));
// Where the bin keeps it: three levels below the checkout, so a bundle's own import.meta.url would not do.
const cache = join(root, 'node_modules', '.cache', 'sessionlog');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A checkout's cli/: main.ts imports a helper and records what it ran as, on globalThis. */
function sources(version: string) {
  mkdirSync(join(root, 'cli'), { recursive: true });
  writeFileSync(join(root, 'cli', 'helper.ts'), `export const version: string = '${version}';\nexport const repo = new URL('..', import.meta.url).href;\n`);
  writeFileSync(join(root, 'cli', 'main.ts'), `import { repo, version } from './helper.ts';\n(globalThis as Record<string, unknown>).__cliRan = { version, repo };\n`);
}
const ran = () => (globalThis as { __cliRan?: { version: string; repo: string } }).__cliRan;
const run = async (bundle: string) => {
  // A fresh URL per import: the module cache would otherwise answer the first one again.
  await import(`${pathToFileURL(bundle).href}?${Math.random()}`);
  return ran();
};

describe('the command line bundle (bin/cli-cache.mjs)', () => {
  it('is built on first use, reused while the sources are unchanged, and rebuilt (the old one removed) when one changes', async () => {
    sources('one');
    expect(freshBundle(root, cache)).toBeUndefined();
    const first = await cliBundle(root, cache);
    expect(first).toMatch(/cli-\w+\.mjs$/);
    // import.meta.url is each source file's own, as under tsx: paths derived from it are the checkout's.
    expect(await run(first)).toEqual({ version: 'one', repo: pathToFileURL(`${root}/`).href });
    expect(freshBundle(root, cache)).toBe(first);
    expect(await cliBundle(root, cache)).toBe(first);

    // A helper changes, to text of the same length: the next command rebuilds.
    sources('two');
    expect(freshBundle(root, cache)).toBeUndefined();
    const second = await cliBundle(root, cache);
    expect(second).not.toBe(first);
    expect(await run(second)).toMatchObject({ version: 'two' });
    expect(readdirSync(cache).filter((f) => f.endsWith('.mjs'))).toEqual([second.split('/').pop()]);
    // Saved again unchanged (a new modification time only): still the same bundle.
    const helper = join(root, 'cli', 'helper.ts');
    const t = statSync(helper).mtime;
    utimesSync(helper, t, new Date(t.getTime() + 5_000));
    expect(freshBundle(root, cache)).toBe(second);
  });

  it('gives up without throwing when it cannot write (the bin then runs the sources through tsx)', async () => {
    sources('three');
    writeFileSync(join(root, 'not-a-dir'), '');
    expect(await cliBundle(root, join(root, 'not-a-dir', 'cache'))).toBeUndefined();
    await expect(buildBundle(root, join(root, 'not-a-dir', 'cache'))).rejects.toThrow();
  });

  it('the bin runs the same commands either way', () => {
    for (const cacheSetting of ['on', 'off']) {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'sessionlog.mjs'), '--help'], {
        env: { PATH: process.env.PATH ?? '', SESSIONLOG_CLI_CACHE: cacheSetting },
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('sessionlog — sessions and events of a Sessionlog deployment');
    }
  });
});
