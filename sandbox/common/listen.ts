import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { RequestListener } from 'node:http';

export interface RunningServer {
  server: http.Server | https.Server;
  port: number;
  /** `http://127.0.0.1:PORT` or `https://…` */
  url: string;
  /** Stops accepting, ends open keep-alive connections, resolves when closed. */
  close(): Promise<void>;
}

export interface ListenOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  tls?: { key: string; cert: string };
}

/** Starts an HTTP(S) server and tracks its sockets so that `close()` really stops it. */
export async function listen(handler: RequestListener, options: ListenOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler) : http.createServer(handler);
  server.keepAliveTimeout = 5_000;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const scheme = options.tls ? 'https' : 'http';
  return {
    server,
    port,
    url: `${scheme}://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
