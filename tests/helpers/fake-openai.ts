/**
 * A local OpenAI-compatible server (chat completions) on loopback, so the real `openai` client is
 * exercised over real HTTP. Each request takes the next scripted behaviour; with none left it
 * answers a valid analysis. Requests are recorded for assertions.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Behaviour =
  | { kind: 'answer'; content?: string; usage?: { prompt_tokens: number; completion_tokens: number } }
  | { kind: 'status'; status: number; body?: unknown }
  | { kind: 'delay'; ms: number };

export interface RecordedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: {
    model: string;
    messages: Array<{ role: string; content: string }>;
    response_format?: { type: string; json_schema?: { name: string; strict?: boolean; schema: unknown } };
  };
}

export const VALID_ANALYSIS = {
  session_summary: 'Emma practised adding fractions with unlike denominators and got there with hints.',
  learning_outcomes: ['Finds a common denominator'],
  engagement_score: 0.8,
  next_steps: ['Practise simplifying results'],
  concepts_covered: ['fractions', 'common denominators'],
  struggles: ['simplifying'],
  progress_change: null,
};

export async function startFakeOpenAI() {
  const requests: RecordedRequest[] = [];
  const script: Behaviour[] = [];
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as RecordedRequest['body'];
    requests.push({ path: req.url ?? '', headers: req.headers, body });
    const send = (status: number, payload: unknown) => {
      // retry-after-ms keeps the client's retry backoff short in tests.
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after-ms': '10' });
      res.end(JSON.stringify(payload));
    };
    if (!req.url?.endsWith('/chat/completions')) return send(404, { error: { message: 'not found' } });
    const b = script.shift() ?? { kind: 'answer' };
    if (b.kind === 'delay') {
      await new Promise((r) => setTimeout(r, b.ms));
      if (!res.writableEnded && !res.destroyed) send(200, completion(body.model, JSON.stringify(VALID_ANALYSIS)));
      return;
    }
    if (b.kind === 'status') return send(b.status, b.body ?? { error: { message: `scripted ${b.status}`, type: 'server_error' } });
    send(200, completion(body.model, b.content ?? JSON.stringify(VALID_ANALYSIS), b.usage));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    script,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function completion(model: string, content: string, usage = { prompt_tokens: 321, completion_tokens: 54 }) {
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}
