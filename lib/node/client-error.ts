import { maxHeaderSize } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, problemBody } from '../errors.js';

/** What Node passes to 'clientError': llhttp's parse errors carry `code` (HPE_*) and `reason`. */
type ClientError = Error & { code?: string; reason?: string };

/**
 * The local server's answer to a request Node could not hand to the app: one whose headers or
 * body did not arrive by REQUEST_TIMEOUT_SECONDS (ERR_HTTP_REQUEST_TIMEOUT) or that is not HTTP
 * (HPE_*). Without a 'clientError' listener Node writes a bare `408` / `400` with no body, so a
 * client's only clue was the status; with one, Node writes nothing and leaves the socket to us
 * (node/lib/_http_server.js socketOnError), so this must always end it.
 */
export function clientErrorListener(requestTimeoutSeconds: number): (err: ClientError, socket: Duplex) => void {
  return (err, socket) => {
    const problem = problemFor(err, requestTimeoutSeconds);
    // Only on a connection whose response has not started: written after (or into) an answer the
    // app began, a second status line would corrupt it for the client. A reset connection has no
    // one left to read an answer.
    if (problem && socket.writable && !responseStarted(socket)) {
      const doc = problemBody(problem);
      const body = JSON.stringify(doc);
      socket.write(
        `HTTP/1.1 ${doc.status} ${doc.title}\r\n` +
          'Content-Type: application/problem+json; charset=utf-8\r\n' +
          `Content-Length: ${Buffer.byteLength(body)}\r\n` +
          'Cache-Control: no-store\r\n' +
          'X-Content-Type-Options: nosniff\r\n' +
          'Connection: close\r\n\r\n' +
          body,
      );
    }
    // As Node's own answer does: the parser cannot go on after an error, and a timed-out request
    // must release its connection (what the deadline is for).
    socket.destroy();
  };
}

function problemFor(err: ClientError, requestTimeoutSeconds: number): ApiError | undefined {
  const code = err.code ?? '';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new ApiError('REQUEST_TIMEOUT', `the request's headers and body did not all arrive within REQUEST_TIMEOUT_SECONDS (${requestTimeoutSeconds} s)`);
  }
  if (!code.startsWith('HPE_')) return undefined; // ECONNRESET and other socket errors: nobody to answer
  if (code === 'HPE_HEADER_OVERFLOW') return new ApiError('HEADERS_TOO_LARGE', `the request's headers are larger than the ${maxHeaderSize} bytes the server accepts`);
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return new ApiError('PAYLOAD_TOO_LARGE', "a chunk's extensions are larger than the server accepts");
  // llhttp's reasons are fixed phrases ("Invalid method encountered"); the check keeps anything
  // else out of the answer.
  const reason = err.reason && /^[\x20-\x7e]{1,200}$/.test(err.reason) ? `: ${err.reason}` : '';
  return new ApiError('BAD_REQUEST', `malformed HTTP request${reason} (${code})`);
}

/** Whether the app has begun an answer on this connection (Node keeps it as the socket's `_httpMessage`). */
function responseStarted(socket: Duplex): boolean {
  return (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage?.headersSent === true;
}
