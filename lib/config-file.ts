import { z } from 'zod';
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
  const Template = z
    .string()
    .min(1)
    .max(50_000)
    .superRefine((t, ctx) => {
      const unknown = unknownPlaceholders(t);
      if (unknown.length) ctx.addIssue({ code: 'custom', message: `unknown placeholder(s): ${unknown.map((u) => `{{${u}}}`).join(', ')}` });
    });

  const Minutes = z.number().positive().max(24 * 60);

  /** Alert rules (lib/alerts/): each can be switched off or retuned; omitted keys keep their default. */
  const AlertsFileSchema = z.strictObject({
    /** Evaluate the rules as events arrive. @default true */
    enabled: z.boolean().optional(),
    /** At most one alert per (rule, student or error type) per this many minutes. Lower it to be told again sooner. @default 15 */
    cooldown_minutes: Minutes.optional(),
    /** Webhook delivery attempts before an alert is marked failed (retries ride on later evaluations). @default 5 */
    max_attempts: z.number().int().min(1).max(20).optional(),
    rules: z
      .strictObject({
        /** One student hits the same error (type + message) `count` times within `window_minutes`. @default count 3, window 10 */
        repeated_error: z.strictObject({ enabled: z.boolean().optional(), count: z.number().int().min(2).max(100).optional(), window_minutes: Minutes.optional() }).optional(),
        /** `students` different students hit the same error type within `window_minutes`: a broken step. @default students 5, window 5 */
        error_spike: z.strictObject({ enabled: z.boolean().optional(), students: z.number().int().min(2).max(10_000).optional(), window_minutes: Minutes.optional() }).optional(),
        /** A student on one step more than `multiplier` × the cohort median and at least `min_minutes`. @default multiplier 3, min 10 */
        stuck: z.strictObject({ enabled: z.boolean().optional(), multiplier: z.number().min(1).max(100).optional(), min_minutes: Minutes.optional() }).optional(),
        /** A voice call ended with an `endedReason` containing one of these fragments. @default error, failed, fault, not-found, not-valid, invalid, not-provided, no-server-available, join-timed-out, unauthorized, exceeded-quota */
        call_error: z.strictObject({ enabled: z.boolean().optional(), ended_reasons: z.array(z.string().min(1).max(200)).max(100).optional() }).optional(),
      })
      .optional(),
  });

  return z.strictObject({
    session_tracking: z.strictObject({ timeout_minutes: z.number().positive().max(24 * 60).optional() }).optional(),
    webhooks: z
      .strictObject({
        vapi: z.strictObject({ enabled: z.boolean().optional(), match_window_minutes: z.number().min(0).max(1440).optional() }).optional(),
      })
      .optional(),
    analysis: z
      .strictObject({
        enabled: z.boolean().optional(),
        model: z.string().min(1).max(200).optional(),
        triggers: z.array(z.enum(['session_complete', 'on_request'])).optional(),
        max_input_tokens: z.number().int().min(500).max(2_000_000).optional(),
        prompts: z.strictObject(Object.fromEntries(TEMPLATE_NAMES.map((n) => [n, Template.optional()])) as Record<(typeof TEMPLATE_NAMES)[number], z.ZodOptional<typeof Template>>).optional(),
      })
      .optional(),
    alerts: AlertsFileSchema.optional(),
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
