import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';

/**
 * A minimal npm registry for one scope, serving packed tarballs as a release would publish them: the
 * packument (`GET /@scope%2fname`) and the tarball. npm is pointed at it for that scope only
 * (`--@distilljs:registry=URL`); every other package comes from the usual registry or npm's cache.
 */
export interface LocalRegistry {
  readonly url: string;
  close(): Promise<void>;
}

function manifestOf(tarball: string): Record<string, unknown> {
  const text = execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' });
  return JSON.parse(text) as Record<string, unknown>;
}

export async function startLocalRegistry(tarballs: readonly string[]): Promise<LocalRegistry> {
  const packages = new Map<string, { manifest: Record<string, unknown>; file: string; bytes: Buffer }>();
  for (const file of tarballs) {
    const manifest = manifestOf(file);
    packages.set(String(manifest.name), { manifest, file: basename(file), bytes: readFileSync(file) });
  }
  let url = '';
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/').slice(1);
    const tarball = [...packages.values()].find((p) => path === `-/${p.file}`);
    if (tarball) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tarball.bytes);
      return;
    }
    const pkg = packages.get(path);
    if (!pkg) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const version = String(pkg.manifest.version);
    const integrity = `sha512-${createHash('sha512').update(pkg.bytes).digest('base64')}`;
    const shasum = createHash('sha1').update(pkg.bytes).digest('hex');
    const packument = {
      name: pkg.manifest.name,
      'dist-tags': { latest: version },
      versions: {
        [version]: { ...pkg.manifest, dist: { tarball: `${url}-/${pkg.file}`, integrity, shasum } },
      },
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(packument));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
