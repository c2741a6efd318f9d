/**
 * A minimal keep-alive HTTP client for the load runs. node:http with an Agent (not fetch/undici)
 * because its per-request cost is small and predictable, so the client does not eat the CPU the
 * server needs on a 2-core machine, and `maxSockets` pins the connection count exactly.
 */
import http from 'node:http';

export interface Reply {
  status: number;
  text: string;
}

export interface Client {
  get(path: string, headers?: Record<string, string>): Promise<Reply>;
  post(path: string, body: string, headers?: Record<string, string>): Promise<Reply>;
  close(): void;
}

/** A client of `base` holding at most `connections` keep-alive sockets. */
export function client(base: URL, connections: number): Client {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    request(agent, new URL(path, base), method, headers, body);
  return {
    get: (path, headers = {}) => send('GET', path, headers),
    post: (path, body, headers = {}) => send('POST', path, { 'content-type': 'application/json', ...headers }, body),
    close: () => agent.destroy(),
  };
}

/** One request; resolves with the status and the whole response text (streamed exports included). */
export function request(agent: http.Agent, url: URL, method: string, headers: Record<string, string>, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const h = body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
    const req = http.request(url, { method, agent, headers: h }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Throw (counted as an error by the load runner) unless the status is one of `ok`. */
export function expectStatus(r: Reply, ...ok: number[]): Reply {
  if (!ok.includes(r.status)) throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 200)}`);
  return r;
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
