/**
 * A Server-Sent Events reader over fetch (the HTML spec's parsing rules, minus `retry:`): fetch can
 * send `Authorization`, which EventSource cannot, so the token never has to go in a URL.
 */
export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  let buffer = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl = buffer.search(/\r\n|\r|\n/);
    // A CR at the very end may be the first half of a CRLF split across chunks: wait for the next.
    while (nl >= 0 && !(nl === buffer.length - 1 && buffer[nl] === '\r')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
      nl = buffer.search(/\r\n|\r|\n/);
      if (line === '') {
        if (data.length) yield { id, event: event || 'message', data: data.join('\n') };
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue; // a comment: heartbeats
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
      else if (field === 'id' && !value.includes('\u0000')) id = value;
    }
  }
}
