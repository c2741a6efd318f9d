import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny real HTTP tool server on 127.0.0.1 (random port) standing in for the tutoring tool
 * server that Vapi tool calls are forwarded to. It records every request and answers what the
 * handler says: results, an HTTP error, malformed text, or nothing for a while (slow mode).
 */
export interface ToolRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The body exactly as received. */
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface ToolReply {
  /** @default 200 */
  status?: number;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent verbatim instead of `body` (malformed answers). */
  raw?: string;
  /** Wait this long before answering (slow mode). */
  delayMs?: number;
}

export type ToolHandler = (req: ToolRequest) => ToolReply | Promise<ToolReply>;

export interface ToolServer {
  url: string;
  requests: ToolRequest[];
  close: () => Promise<void>;
}

type ToolCallItem = { id: string; function?: { name?: string; arguments?: unknown } };

/** The tool calls of a forwarded Vapi `tool-calls` message. */
export function toolCallsOf(req: ToolRequest): ToolCallItem[] {
  const m = (req.json as { message?: { toolCallList?: ToolCallItem[] } } | undefined)?.message;
  return m?.toolCallList ?? [];
}

/** Handlers for the usual modes. */
export const replies = {
  /** Answer every tool call with `result(name, args)`. */
  results:
    (result: (name: string, args: unknown) => unknown = (name) => `ok:${name}`): ToolHandler =>
    (req) => ({ body: { results: toolCallsOf(req).map((c) => ({ toolCallId: c.id, result: result(c.function?.name ?? '', c.function?.arguments) })) } }),
  slow: (delayMs: number, then: ToolHandler = replies.results()): ToolHandler => async (req) => ({ ...(await then(req)), delayMs }),
  status: (status: number, body: unknown = { error: 'boom' }): ToolHandler => () => ({ status, body }),
  malformed: (raw = '{"results": [ {"toolCallId": '): ToolHandler => () => ({ raw }),
};

export async function startToolServer(handler: ToolHandler = replies.results()): Promise<ToolServer> {
  const requests: ToolRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const recorded: ToolRequest = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json };
    requests.push(recorded);
    let reply: ToolReply;
    try {
      reply = await handler(recorded);
    } catch (err) {
      reply = { status: 500, raw: String(err) };
    }
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
      res.end(reply.raw ?? JSON.stringify(reply.body ?? {}));
    };
    if (!reply.delayMs) return send();
    // The only sleep in the Vapi suites: a tool server that is slow on purpose.
    const t = setTimeout(() => {
      timers.delete(t);
      send();
    }, reply.delayMs);
    timers.add(t);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/vapi/tools`,
    requests,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
