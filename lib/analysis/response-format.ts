import * as z from '../util/zod.js';

/**
 * OpenAI structured output (`response_format: json_schema`, strict) for a zod v4 object schema.
 * openai/helpers/zod's zodResponseFormat builds the same JSON schema, but importing it bundles
 * zod v3 (~115 KB) into the edge worker, parsed on every cold start. Without its `$parseRaw`,
 * chat.completions.parse sets `message.parsed` to the JSON of the answer, which the caller
 * validates with the same schema. tests/unit/analysis-response-format.test.ts checks that the two
 * agree for AnalysisOutput; a schema that needs the helper's rewriting (optional fields, unions
 * with a discriminator, $refs) must be checked there before it is used here.
 */
export function jsonSchemaResponseFormat(schema: z.ZodMiniObject, name: string) {
  const json = z.toJSONSchema(schema, { target: 'draft-7', io: 'output' }) as { properties?: Record<string, { type?: unknown }>; required?: string[] };
  // Strict mode needs every property required. An optional field the model may leave out is sent
  // required-nullable (as openai/helpers/zod does), so it must already accept null; anything else
  // would change what the model may answer, so refuse it here rather than at the model.
  const properties = json.properties ?? {};
  const required = new Set(json.required ?? []);
  for (const [key, prop] of Object.entries(properties)) {
    if (required.has(key)) continue;
    if (!(Array.isArray(prop.type) && prop.type.includes('null'))) throw new Error(`${name}.${key}: an optional field must be nullable for strict structured outputs`);
  }
  json.required = Object.keys(properties);
  return { type: 'json_schema' as const, json_schema: { name, strict: true, schema: json as Record<string, unknown> } };
}
