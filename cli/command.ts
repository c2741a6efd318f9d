import type { ParseArgsConfig } from 'node:util';
import type { Client } from './client.js';
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
