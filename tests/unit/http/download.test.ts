import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Downloads } from '../../../src/http/download.js';

/** A local server: /file answers 10 KB, /silent never answers, /stops sends half a body and goes quiet. */
let server: Server;
let base: string;
const open = new Set<Socket>();

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/file') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.alloc(10_240, 7));
    } else if (req.url === '/stops') {
      res.writeHead(200, { 'content-length': '10240' });
      res.write(Buffer.alloc(5_120, 7));
    } else if (req.url === '/missing') {
      res.writeHead(404, { 'content-type': 'application/xml' });
      res.end('<Error><Code>NoSuchKey</Code></Error>');
    }
    // /silent: nothing at all.
  });
  server.on('connection', (socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const socket of open) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function bytesOf(body: AsyncIterable<unknown>): Promise<number> {
  let n = 0;
  for await (const chunk of body) n += (chunk as Buffer).length;
  return n;
}

describe('Downloads', () => {
  it('streams a file and hands over the status of an error answer', async () => {
    const downloads = new Downloads(5_000);
    try {
      const ok = await downloads.get(new URL(`${base}/file`));
      expect(ok.statusCode).toBe(200);
      expect(await bytesOf(ok.body)).toBe(10_240);
      const missing = await downloads.get(new URL(`${base}/missing`));
      expect(missing.statusCode).toBe(404);
      await bytesOf(missing.body);
    } finally {
      downloads.close();
    }
  });

  it('gives up with ETIMEDOUT when no answer comes, and fails the body when it stops half way', async () => {
    const downloads = new Downloads(300);
    try {
      await expect(downloads.get(new URL(`${base}/silent`))).rejects.toMatchObject({ code: 'ETIMEDOUT' });
      const half = await downloads.get(new URL(`${base}/stops`));
      await expect(bytesOf(half.body)).rejects.toThrow();
    } finally {
      downloads.close();
    }
  });

  it('refuses a URL that is not http or https', async () => {
    await expect(new Downloads(1_000).get(new URL('ftp://127.0.0.1/x'))).rejects.toMatchObject({ code: 'ERR_INVALID_PROTOCOL' });
  });
});
