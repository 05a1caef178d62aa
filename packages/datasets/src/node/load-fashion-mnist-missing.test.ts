import { NotInstalledError } from '@distilljs/core';
import { describe, expect, it, vi } from 'vitest';
import { tempDir } from '../__fixtures__/files.js';

// Pretend Debian's dataset-fashion-mnist is not installed, whatever this machine has.
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    existsSync: (p: string) => (p === '/usr/share/datasets/fashion-mnist' ? false : fs.existsSync(p)),
  };
});

describe('loadFashionMnist without the Debian package', () => {
  it("names the install command for source 'dir'", async () => {
    const { loadFashionMnist } = await import('./load-fashion-mnist.js');
    const err = await loadFashionMnist({ source: 'dir' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotInstalledError);
    expect((err as NotInstalledError).installCommand).toBe('apt-get install dataset-fashion-mnist');
    expect((err as Error).message).toMatch(
      /^loadFashionMnist: Fashion-MNIST is not in \/usr\/share\/datasets\/fashion-mnist, where Debian's dataset-fashion-mnist package installs it .* Install it with: apt-get install dataset-fashion-mnist$/,
    );
  });

  it('falls back to downloading (through the injected fetch) when no source is given', async () => {
    const { loadFashionMnist } = await import('./load-fashion-mnist.js');
    const urls: string[] = [];
    const fetch = async (u: string) => {
      urls.push(u);
      return new Response('offline', { status: 503, statusText: 'Service Unavailable' });
    };
    await expect(loadFashionMnist({ fetch, cacheDir: tempDir() })).rejects.toThrow(/HTTP 503/);
    expect(urls).toEqual([
      'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/train-images-idx3-ubyte.gz',
    ]);
  });
});
