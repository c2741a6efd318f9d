import * as z from './util/zod.js';
import { TEMPLATE_NAMES, unknownPlaceholders } from './analysis/templates.js';

/**
 * session.config.yaml / session.config.json at the project root: what an instructor configures
 * without touching code. Strict: an unknown or mistyped key stops start-up with its path named.
 * The environment overrides the file.
 *
 * The schema is built on first use: most deployments have no file, and built at import it
 * cost every function ~140 zod schemas before its first answer (ADR 0020).
 */
function buildConfigFileSchema() {
  const Template = z.string().check(
    z.minLength(1),
    z.maxLength(50_000),
    z.superRefine((t, ctx) => {
      const unknown = unknownPlaceholders(t);
      if (unknown.length) ctx.addIssue({ code: 'custom', message: `unknown placeholder(s): ${unknown.map((u) => `{{${u}}}`).join(', ')}` });
    }),
  );

  const Minutes = z.number().check(z.positive(), z.maximum(24 * 60));

  /** Alert rules (lib/alerts/): each can be switched off or retuned; omitted keys keep their default. */
  const AlertsFileSchema = z.strictObject({
    /** Evaluate the rules as events arrive. @default true */
    enabled: z.optional(z.boolean()),
    /** At most one alert per (rule, student or error type) per this many minutes. Lower it to be told again sooner. @default 15 */
    cooldown_minutes: z.optional(Minutes),
    /** Webhook delivery attempts before an alert is marked failed (retries ride on later evaluations). @default 5 */
    max_attempts: z.optional(z.int().check(z.minimum(1), z.maximum(20))),
    rules: z.optional(
      z.strictObject({
        /** One student hits the same error (type + message) `count` times within `window_minutes`. @default count 3, window 10 */
        repeated_error: z.optional(
          z.strictObject({ enabled: z.optional(z.boolean()), count: z.optional(z.int().check(z.minimum(2), z.maximum(100))), window_minutes: z.optional(Minutes) }),
        ),
        /** `students` different students hit the same error type within `window_minutes`: a broken step. @default students 5, window 5 */
        error_spike: z.optional(
          z.strictObject({ enabled: z.optional(z.boolean()), students: z.optional(z.int().check(z.minimum(2), z.maximum(10_000))), window_minutes: z.optional(Minutes) }),
        ),
        /** A student on one step more than `multiplier` × the cohort median and at least `min_minutes`. @default multiplier 3, min 10 */
        stuck: z.optional(
          z.strictObject({ enabled: z.optional(z.boolean()), multiplier: z.optional(z.number().check(z.minimum(1), z.maximum(100))), min_minutes: z.optional(Minutes) }),
        ),
        /** A voice call ended with an `endedReason` containing one of these fragments. @default error, failed, fault, not-found, not-valid, invalid, not-provided, no-server-available, join-timed-out, unauthorized, exceeded-quota */
        call_error: z.optional(
          z.strictObject({
            enabled: z.optional(z.boolean()),
            ended_reasons: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(200))).check(z.maxLength(100))),
          }),
        ),
      }),
    ),
  });

  return z.strictObject({
    session_tracking: z.optional(
      z.strictObject({
        timeout_minutes: z.optional(z.number().check(z.positive(), z.maximum(24 * 60))),
        /** Tools whose calls with a boolean `correct` count as attempts (ATTEMPT_TOOLS); `[]`: none. @default [record_attempt] */
        attempt_tools: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(200), z.regex(/^[^,]+$/, 'a tool name has no comma'))).check(z.maxLength(100))),
      }),
    ),
    webhooks: z.optional(
      z.strictObject({
        vapi: z.optional(z.strictObject({ enabled: z.optional(z.boolean()), match_window_minutes: z.optional(z.number().check(z.minimum(0), z.maximum(1440))) })),
      }),
    ),
    analysis: z.optional(
      z.strictObject({
        enabled: z.optional(z.boolean()),
        model: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
        triggers: z.optional(z.array(z.enum(['session_complete', 'on_request']))),
        max_input_tokens: z.optional(z.int().check(z.minimum(500), z.maximum(2_000_000))),
        prompts: z.optional(
          z.strictObject(
            Object.fromEntries(TEMPLATE_NAMES.map((n) => [n, z.optional(Template)])) as Record<(typeof TEMPLATE_NAMES)[number], z.ZodMiniOptional<typeof Template>>,
          ),
        ),
      }),
    ),
    alerts: z.optional(AlertsFileSchema),
  });
}

let configFileSchema: ReturnType<typeof buildConfigFileSchema> | undefined;

export type ConfigFile = z.infer<ReturnType<typeof buildConfigFileSchema>>;

/**
 * `message` has the details for the operator's log (the file's path, the parser's complaint, which
 * may quote the offending line — and that line may hold a key). `publicMessage` names only the file
 * and the keys: it is what an unauthenticated caller of a misconfigured function gets to see.
 */
export class ConfigFileError extends Error {
  readonly publicMessage: string;
  constructor(message: string, publicMessage = message) {
    super(message);
    this.name = 'ConfigFileError';
    this.publicMessage = publicMessage;
  }
}

/** The file name without its directories (Web-standard: this module also runs on edge). */
export const fileName = (path: string) => path.split(/[\\/]/).pop() || path;

/** Validate a parsed config file; errors name each bad key by its dotted path. */
export function parseConfigFile(raw: unknown, source = 'session.config'): ConfigFile {
  // Once per instance: not worth compiling (see parseConfig).
  configFileSchema ??= buildConfigFileSchema();
  const parsed = configFileSchema.safeParse(raw ?? {}, { jitless: true });
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => {
    const path = i.path.map(String).join('.');
    const keys = i.code === 'unrecognized_keys' ? ` (${i.keys.map((k) => (path ? `${path}.${k}` : k)).join(', ')})` : '';
    return `${path || '(root)'}: ${i.message}${keys}`;
  });
  throw new ConfigFileError(`${source}: ${problems.join('; ')}`, `${fileName(source)}: ${problems.join('; ')}`);
}
