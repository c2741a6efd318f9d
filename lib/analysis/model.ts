import type { Config } from '../config.js';
import { SYSTEM_PROMPT } from './prompt.js';
import { jsonSchemaResponseFormat } from './response-format.js';
import { AnalysisOutput } from './schema.js';

export interface ModelAnswer {
  result: AnalysisOutput;
  inputTokens: number | null;
  outputTokens: number | null;
}

/**
 * One structured completion through the OpenAI client (any OpenAI-compatible endpoint via
 * `baseURL`): the system prompt, the built prompt, and a reply parsed by AnalysisOutput. A refusal
 * or a reply that does not fit the schema throws; retries across sweeps are run.ts's business.
 */
export async function askModel(config: Config['analysis'] & { apiKey: string }, prompt: string): Promise<ModelAnswer> {
  // Imported on first use: the client is 1.3 MB that every Vercel function carries (any of them
  // may start an analysis through the sweep by traffic) but almost no request runs; a static
  // import would load and compile it on every cold start (ADR 0020).
  const { default: OpenAI } = await import('openai');
  // A client per call: it holds no connection, and the key comes from the (per-app) config.
  const client = new OpenAI({ apiKey: config.apiKey, baseURL: config.baseURL, timeout: config.timeoutMs, maxRetries: 2 });
  const completion = await client.chat.completions.parse({
    model: config.model,
    messages: [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: prompt },
    ],
    response_format: jsonSchemaResponseFormat(AnalysisOutput, 'session_analysis'),
  });
  const message = completion.choices[0]?.message;
  if (message?.refusal) throw new Error(`the model refused: ${message.refusal}`);
  return {
    result: AnalysisOutput.parse(message?.parsed),
    inputTokens: completion.usage?.prompt_tokens ?? null,
    outputTokens: completion.usage?.completion_tokens ?? null,
  };
}
