/**
 * The analysis asks OpenAI for the same strict JSON schema the SDK's zod helper would send: our
 * builder (lib/analysis/response-format.ts) exists only to keep zod v3 out of the edge bundle.
 */
import { zodResponseFormat } from 'openai/helpers/zod';
import { expect, it } from 'vitest';
import { jsonSchemaResponseFormat } from '../../lib/analysis/response-format.js';
import { AnalysisOutput } from '../../lib/analysis/schema.js';

it("sends the same response_format as openai/helpers/zod for AnalysisOutput", () => {
  const ours = jsonSchemaResponseFormat(AnalysisOutput, 'session_analysis');
  const theirs = zodResponseFormat(AnalysisOutput, 'session_analysis');
  expect(ours.type).toBe(theirs.type);
  expect(ours.json_schema).toEqual({ name: theirs.json_schema.name, strict: theirs.json_schema.strict, schema: theirs.json_schema.schema });
  // Strict mode's own rules, which OpenAI enforces: every property required, no extras.
  const schema = ours.json_schema.schema as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
  expect(schema.required.sort()).toEqual(Object.keys(schema.properties).sort());
  expect(schema.additionalProperties).toBe(false);
});
