/**
 * A replay of one captured export body: answers every /api/2.0/export request with the same
 * bytes (gzip when asked, as Mixpanel does), so the tap is measured on the very JSON Lines the
 * baseline reads, without the sandbox generating events beside it.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Replay {
  url: string;
  close(): Promise<void>;
}

export async function startReplay(files: { plain: string; gzip: string }): Promise<Replay> {
  const sizes = { plain: statSync(files.plain).size, gzip: statSync(files.gzip).size };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/api/2.0/export') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"replay serves /api/2.0/export only"}');
      return;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    res.writeHead(200, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(gzip ? sizes.gzip : sizes.plain),
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      date: new Date().toUTCString(),
    });
    createReadStream(gzip ? files.gzip : files.plain, { highWaterMark: 256 * 1024 }).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
