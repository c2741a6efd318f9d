import { sessionDataAdapter } from './session-data/index.js';
import type { CallAdapter } from './types.js';
import { vapiAdapter } from './vapi/index.js';

/**
 * Every voice platform Sessionlog understands, by name. A new platform is one folder
 * (lib/calls/<name>/ exporting a CallAdapter) plus one line here; the shared adapter suite
 * (tests/unit/call-adapters.test.ts) refuses a registered adapter it has no cases for.
 */
export const callAdapters = {
  vapi: vapiAdapter,
  'session-data': sessionDataAdapter,
} as const satisfies Record<string, CallAdapter>;

export type CallAdapterName = keyof typeof callAdapters;
