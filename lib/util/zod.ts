/**
 * zod for everything in lib/: `zod/mini`, whose functions a bundler keeps only when used (the
 * classic `zod` ships its whole API, ~390 KB, with every function that loads a schema; see
 * ADR 0026), with the English messages that classic zod configures by itself and mini does not.
 * Import it as `import * as z from '…/util/zod.js'`.
 */
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
