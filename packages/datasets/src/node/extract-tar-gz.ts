import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { InvalidFileError } from '@distilljs/core';
import * as tar from 'tar-stream';

function reject(archive: string, index: number, name: string, why: string): never {
  throw new InvalidFileError(
    `${archive}: tar entry ${index} '${name}' ${why}; refusing to extract (entries must be plain files or directories inside the target directory)`,
    { where: `${archive}#${name}` },
  );
}

/** The safe relative path of a tar entry inside `root`, or an error naming the entry. */
function safeEntryPath(archive: string, index: number, name: string, root: string): string {
  if (name.includes('\0')) reject(archive, index, name, 'has a NUL byte in its path');
  const unixName = name.replace(/\\/g, '/');
  if (unixName.startsWith('/') || /^[A-Za-z]:/.test(unixName) || isAbsolute(name)) {
    reject(archive, index, name, 'has an absolute path');
  }
  const norm = posix.normalize(unixName);
  if (norm === '..' || norm.startsWith('../')) reject(archive, index, name, 'escapes the target directory');
  const full = resolve(root, norm);
  const rel = relative(root, full);
  if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    reject(archive, index, name, 'escapes the target directory');
  }
  return full;
}

/**
 * Extracts a `.tar.gz` archive into `targetDir`, safely: every entry must be a plain file or a directory
 * whose path stays inside `targetDir` (absolute paths, `..` escapes, symlinks, hard links and devices are
 * rejected with an {@link InvalidFileError} naming the archive and the entry). Extraction goes to a
 * temporary sibling directory that is renamed to `targetDir` only when the whole archive was read, and is
 * removed on error, so `targetDir` never holds a partial or unsafe extraction.
 *
 * @returns the relative paths of the files written
 */
export async function extractTarGz(archive: string, targetDir: string): Promise<string[]> {
  const target = resolve(targetDir);
  await mkdir(dirname(target), { recursive: true });
  const staging = await mkdtemp(join(dirname(target), `.${basename(target)}.tmp-`));
  const files: string[] = [];
  const extract = tar.extract();
  const feeding = pipeline(createReadStream(archive), createGunzip(), extract).catch((cause: unknown) => {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new InvalidFileError(`${archive}: not a readable tar.gz archive (${why})`, {
      where: archive,
      cause,
    });
  });
  feeding.catch(() => undefined); // awaited below; this only marks it handled meanwhile
  try {
    let index = 0;
    for await (const entry of extract) {
      const { name, type } = entry.header;
      const full = safeEntryPath(archive, index, name, staging);
      if (type === 'directory') {
        await mkdir(full, { recursive: true });
        entry.resume();
      } else if (type === 'file' || type === 'contiguous-file') {
        await mkdir(dirname(full), { recursive: true });
        await pipeline(entry, createWriteStream(full));
        files.push(relative(staging, full).split(sep).join('/'));
      } else {
        reject(
          archive,
          index,
          name,
          `is a ${type}${entry.header.linkname ? ` to '${entry.header.linkname}'` : ''}`,
        );
      }
      index++;
    }
    await feeding;
    await rm(target, { recursive: true, force: true });
    await rename(staging, target);
    return files;
  } catch (err) {
    extract.destroy();
    const feedError = await feeding.then(
      () => undefined,
      (e: unknown) => e,
    );
    await rm(staging, { recursive: true, force: true });
    throw err instanceof InvalidFileError ? err : (feedError ?? err);
  }
}
