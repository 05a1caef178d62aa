import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidFileError } from '@distilljs/core';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../__fixtures__/files.js';
import { makeTarGz, type TarEntry } from '../__fixtures__/tar.js';
import { extractTarGz } from './extract-tar-gz.js';

async function archive(entries: TarEntry[]): Promise<{ root: string; file: string; target: string }> {
  const root = tempDir();
  const file = join(root, 'a.tar.gz');
  writeFileSync(file, await makeTarGz(entries));
  mkdirSync(join(root, 'cache'));
  return { root, file, target: join(root, 'cache', 'out') };
}

describe('extractTarGz', () => {
  it('extracts plain files and directories', async () => {
    const { file, target } = await archive([
      { name: 'cifar-10-batches-bin/', type: 'directory' },
      { name: 'cifar-10-batches-bin/a.bin', body: 'AAA' },
      { name: './cifar-10-batches-bin/sub/b.txt', body: 'bee' },
    ]);
    const files = await extractTarGz(file, target);
    expect(files.sort()).toEqual(['cifar-10-batches-bin/a.bin', 'cifar-10-batches-bin/sub/b.txt']);
    expect(readFileSync(join(target, 'cifar-10-batches-bin/sub/b.txt'), 'utf8')).toBe('bee');
  });

  it.each([
    [[{ name: '../escape.txt', body: 'x' }], "tar entry 0 '../escape.txt' escapes the target directory"],
    [
      [
        { name: 'ok.txt', body: 'ok' },
        { name: 'a/../../../escape.txt', body: 'x' },
      ],
      "tar entry 1 'a/../../../escape.txt' escapes the target directory",
    ],
    [
      [{ name: '/tmp/distilljs-abs-escape.txt', body: 'x' }],
      "tar entry 0 '/tmp/distilljs-abs-escape.txt' has an absolute path",
    ],
    [
      [{ name: 'link', type: 'symlink', linkname: '/etc/passwd' }],
      "tar entry 0 'link' is a symlink to '/etc/passwd'",
    ],
    [[{ name: 'hard', type: 'link', linkname: '../../x' }], "tar entry 0 'hard' is a link to '../../x'"],
  ] as [TarEntry[], string][])(
    'rejects an entry that could escape the cache dir: %j',
    async (entries, message) => {
      const { root, file, target } = await archive(entries);
      const err = await extractTarGz(file, target).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidFileError);
      expect((err as Error).message).toBe(
        `${file}: ${message}; refusing to extract (entries must be plain files or directories inside the target directory)`,
      );
      // Nothing was written: no target, no staging directory, nothing beside the archive.
      expect(readdirSync(join(root, 'cache'))).toEqual([]);
      expect(readdirSync(root).sort()).toEqual(['a.tar.gz', 'cache']);
      expect(existsSync('/tmp/distilljs-abs-escape.txt')).toBe(false);
    },
  );

  it('rejects an archive that is not gzip', async () => {
    const root = tempDir();
    const file = join(root, 'bad.tar.gz');
    writeFileSync(file, 'this is not gzip at all');
    await expect(extractTarGz(file, join(root, 'out'))).rejects.toThrow(
      /bad\.tar\.gz: not a readable tar\.gz archive/,
    );
    expect(readdirSync(root)).toEqual(['bad.tar.gz']);
  });
});
