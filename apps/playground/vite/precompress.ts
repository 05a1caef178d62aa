import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

/** What is worth compressing (the `.gzip` data files are compressed already), with its Content-Type. */
export const COMPRESSIBLE: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

/**
 * Writes `file.br` (brotli) and `file.gz` (gzip) beside every compressible file of at least `minBytes`
 * under `dir`, where compressing saves space. Returns the bytes before and after (brotli), for the log.
 */
export function precompressDir(dir: string, minBytes = 1024): { files: number; raw: number; brotli: number } {
  let count = 0;
  let raw = 0;
  let brotli = 0;
  for (const path of files(dir)) {
    if (!(extname(path) in COMPRESSIBLE)) continue;
    const data = readFileSync(path);
    if (data.length < minBytes) continue;
    // Brotli's best quality takes about 2 s per MB: files over 4 MB (onnxruntime-web's 15 MB engine) get
    // quality 9, 10 times faster and about 12% larger.
    const br = brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: data.length > 4 * 2 ** 20 ? 9 : 11,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    });
    const gz = gzipSync(data, { level: 9 });
    if (br.length >= data.length) continue;
    writeFileSync(`${path}.br`, br);
    writeFileSync(`${path}.gz`, gz);
    count += 1;
    raw += data.length;
    brotli += br.length;
  }
  return { files: count, raw, brotli };
}

/** The encodings a request accepts, best first, among those precompressed. */
export function acceptedEncodings(header: string | string[] | undefined): ('br' | 'gzip')[] {
  const text = (Array.isArray(header) ? header.join(',') : (header ?? '')).toLowerCase();
  const accepted = new Map<string, number>();
  for (const part of text.split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    accepted.set(name!.trim(), q ? Number(q.slice(2)) : 1);
  }
  return (['br', 'gzip'] as const).filter((e) => (accepted.get(e) ?? accepted.get('*') ?? 0) > 0);
}

/**
 * A connect middleware that answers a GET for a precompressed file under `dir` with its `.br` or `.gz`
 * twin (Content-Encoding, the original's Content-Type, Vary: Accept-Encoding) and leaves everything else
 * to the next handler. `headers` are added to what it sends (the page's isolation headers).
 */
export function precompressedMiddleware(dir: string, headers: Readonly<Record<string, string>> = {}) {
  const root = normalize(dir + sep);
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next();
      return;
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      next();
      return;
    }
    if (pathname.endsWith('/')) pathname += 'index.html';
    const file = normalize(join(root, pathname));
    const type = COMPRESSIBLE[extname(file)];
    if (!file.startsWith(root) || type === undefined) {
      next();
      return;
    }
    for (const encoding of acceptedEncodings(req.headers['accept-encoding'])) {
      const twin = `${file}.${encoding === 'br' ? 'br' : 'gz'}`;
      if (!existsSync(twin)) continue;
      res.statusCode = 200;
      for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
      res.setHeader('Content-Type', type);
      res.setHeader('Content-Encoding', encoding);
      res.setHeader('Vary', 'Accept-Encoding');
      res.setHeader('Content-Length', statSync(twin).size);
      res.setHeader(
        'Cache-Control',
        pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
      res.end(req.method === 'HEAD' ? undefined : readFileSync(twin));
      return;
    }
    res.setHeader('Vary', 'Accept-Encoding');
    next();
  };
}
