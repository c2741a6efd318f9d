import type { ParseArgsConfig } from 'node:util';
import type { Client } from './client.js';
import { usage as usageError } from './errors.js';
import type { Paint } from './output.js';

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | undefined>;

/** What a command gets: the API client, parsed flags and positionals, and the output helpers. */
export interface Context {
  client: Client;
  args: string[];
  flags: Values;
  json: boolean;
  /** Colours for stdout and for stderr (each off when its own stream is not a terminal). */
  out: Paint;
  err: Paint;
  env: Record<string, string | undefined>;
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** `sessionlog <name> …` synopsis and the rest of its --help text. */
  help: string;
  options?: Options;
  /** How many positionals: [min, max]. */
  positionals: [number, number];
  run(ctx: Context): Promise<number | undefined>;
}

export const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/** A whole-number flag, or a usage error naming it. */
export function intFlag(flags: Values, name: string, min: number, max: number): number | undefined {
  const raw = str(flags[name]);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < min || n > max) throw usageError(`--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
}
