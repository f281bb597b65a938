// A connection that has not sent a request yet is not idle to Node's HTTP server: closing the
// server waits for it, until its headers timeout (60 s) or the shutdown grace period runs out.
// Browsers' preconnects and load balancers' TCP health checks open such connections. They are
// closed as soon as closing starts; a connection between two requests is closed by Fastify
// (`forceCloseConnections: 'idle'`), and a request in flight is let finish.

import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface UnusedConnections {
  /** A request arrived on this connection. */
  used(socket: Socket): void;
  /** Closes every connection that never sent a request. */
  closeAll(): void;
}

export function trackUnusedConnections(server: Server): UnusedConnections {
  const unused = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    unused.add(socket);
    socket.once('close', () => unused.delete(socket));
  });
  return {
    used: (socket) => void unused.delete(socket),
    closeAll() {
      for (const socket of unused) socket.destroy();
      unused.clear();
    },
  };
}
