import { z } from 'zod';

/**
 * OpenAI structured output (`response_format: json_schema`, strict) for a zod v4 object schema.
 * openai/helpers/zod's zodResponseFormat builds the same JSON schema, but importing it bundles
 * zod v3 (~115 KB) into the edge worker, parsed on every cold start. Without its `$parseRaw`,
 * chat.completions.parse sets `message.parsed` to the JSON of the answer, which the caller
 * validates with the same schema. tests/unit/analysis-response-format.test.ts checks that the two
 * agree for AnalysisOutput; a schema that needs the helper's rewriting (optional fields, unions
 * with a discriminator, $refs) must be checked there before it is used here.
 */
export function jsonSchemaResponseFormat(schema: z.ZodObject, name: string) {
  return {
    type: 'json_schema' as const,
    json_schema: { name, strict: true, schema: z.toJSONSchema(schema, { target: 'draft-7', io: 'output' }) as Record<string, unknown> },
  };
}
