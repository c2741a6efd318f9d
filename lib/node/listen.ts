import { createServer } from 'node:net';

/** The local server cannot take its address: the message says which and what to change. */
export class ListenError extends Error {}

/**
 * What to tell someone whose `npm start` cannot listen, or undefined for an error that is not
 * about the address. Without it Node throws an unhandled 'error' event: a stack trace, where the
 * likely cause is another `npm start` still running.
 */
export function listenErrorMessage(err: unknown, port: number, host: string | undefined): string | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') return `port ${port} is already in use (another npm start?): stop what listens there, or set PORT to a free port`;
  if (code === 'EACCES') return `port ${port} needs privileges this user does not have (EACCES): set PORT to 1024 or above`;
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return `HOST ${host ?? ''} is not an address of this machine (${code}): unset HOST, or set it to 127.0.0.1`;
  return undefined;
}

/**
 * Binds the port once and lets it go, before the server opens its storage: a second `npm start`
 * in the same folder would otherwise open the same embedded database (`.data/pglite`) beside the
 * running one, run its migrations, and only then fail to listen. The server still handles the
 * same error when it listens (someone may take the port in between). Port 0 (any free port) always
 * binds.
 */
export async function checkCanListen(port: number, host: string | undefined): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err) => {
      const message = listenErrorMessage(err, port, host);
      reject(message ? new ListenError(message) : err);
    });
    probe.listen({ port, ...(host ? { host } : {}), exclusive: true }, () => probe.close(() => resolve()));
  });
}
