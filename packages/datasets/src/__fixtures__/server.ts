// A tiny HTTP server on 127.0.0.1 serving fixed files, with Range support, for download tests.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  readonly url: string;
  readonly requests: { path: string; range: string | undefined }[];
  close(): Promise<void>;
}

export async function serveFiles(
  files: Record<string, Uint8Array>,
  options: { ranges?: boolean; cutAfter?: number } = {},
): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const path = (req.url ?? '/').slice(1);
    requests.push({ path, range: req.headers.range });
    const body = files[path];
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && options.ranges !== false) {
      const start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        'content-length': String(body.length - start),
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
      });
      res.end(Buffer.from(body.subarray(start)));
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) });
    if (options.cutAfter !== undefined) {
      // Send part of the body, then drop the connection (an interrupted download).
      res.write(Buffer.from(body.subarray(0, options.cutAfter)), () => res.socket?.destroy());
      return;
    }
    res.end(Buffer.from(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
