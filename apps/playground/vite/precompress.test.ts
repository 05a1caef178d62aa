import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { acceptedEncodings, precompressDir, precompressedMiddleware } from './precompress.js';

const dir = mkdtempSync(join(tmpdir(), 'precompress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('precompressDir', () => {
  it('writes brotli and gzip twins that decompress to the file, and skips small or compressed files', () => {
    mkdirSync(join(dir, 'assets'));
    const js = `export const digits = ${JSON.stringify(Array.from({ length: 2000 }, (_, i) => i % 97))};\n`;
    writeFileSync(join(dir, 'assets', 'index.js'), js);
    writeFileSync(join(dir, 'tiny.css'), 'body{}');
    writeFileSync(join(dir, 'train.gzip'), Buffer.alloc(5000, 7));
    const r = precompressDir(dir);
    expect(r.files).toBe(1);
    expect(r.brotli).toBeLessThan(r.raw / 3);
    expect(brotliDecompressSync(readFileSync(join(dir, 'assets', 'index.js.br'))).toString()).toBe(js);
    expect(gunzipSync(readFileSync(join(dir, 'assets', 'index.js.gz'))).toString()).toBe(js);
    expect(() => readFileSync(join(dir, 'tiny.css.br'))).toThrow();
    expect(() => readFileSync(join(dir, 'train.gzip.br'))).toThrow();
  });

  it('reads Accept-Encoding with q-values', () => {
    expect(acceptedEncodings('gzip, deflate, br, zstd')).toEqual(['br', 'gzip']);
    expect(acceptedEncodings('gzip;q=1, br;q=0')).toEqual(['gzip']);
    expect(acceptedEncodings(undefined)).toEqual([]);
  });

  it('serves the twin the client accepts, with its type and encoding, over real HTTP', async () => {
    const mw = precompressedMiddleware(dir, { 'Cross-Origin-Opener-Policy': 'same-origin' });
    const server: Server = createServer((req, res) =>
      mw(req, res, () => {
        res.statusCode = 404;
        res.end('next');
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const get = (path: string, enc: string) =>
        new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
          import('node:http').then(({ get: httpGet }) =>
            httpGet({ host: '127.0.0.1', port, path, headers: { 'accept-encoding': enc } }, (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c) => chunks.push(c));
              res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
            }).on('error', reject),
          );
        });
      const br = await get('/assets/index.js?v=1', 'gzip, br');
      expect(br.headers['content-encoding']).toBe('br');
      expect(br.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(br.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(brotliDecompressSync(br.body)).toEqual(readFileSync(join(dir, 'assets', 'index.js')));
      const gz = await get('/assets/index.js', 'gzip');
      expect(gz.headers['content-encoding']).toBe('gzip');
      expect((await get('/assets/index.js', 'identity')).body.toString()).toBe('next');
      expect((await get('/../etc/passwd.js', 'br')).body.toString()).toBe('next');
    } finally {
      server.close();
    }
  });
});
