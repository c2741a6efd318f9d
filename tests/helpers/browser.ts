import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { describe } from 'vitest';

/** Debian's Chromium (apt-get install chromium); tests never download a browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function describeWithBrowser(name: string, fn: () => void) {
  if (!existsSync(CHROMIUM)) {
    console.warn(`\n[sessionlog tests] ${CHROMIUM} not found: SKIPPING browser suites. CI installs it (.ci/run).\n`);
    return describe.skip(name, fn);
  }
  return describe(name, fn);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Without the background-networking flags Chromium keeps dialling Google, which this closed
    // network refuses; --no-sandbox because CI runs as root.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
