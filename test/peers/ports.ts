/** Free TCP ports on 127.0.0.1 for test servers that must be told their port up front (child processes). */
import { createServer } from 'node:net';

/** Asks the OS for a free port. Another process could take it before it is used, so callers retry on EADDRINUSE. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
