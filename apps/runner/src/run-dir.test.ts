import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunFailedError, UsageError } from './exit-code.js';
import { createRunDir, writeFileAtomic } from './run-dir.js';

let root = '';
afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('run directories', () => {
  it('creates a fresh --out, refuses a non-empty one and leaves it untouched', () => {
    root = mkdtempSync(join(tmpdir(), 'run-dir-'));
    const out = join(root, 'a', 'b');
    expect(createRunDir({ out, prefix: 'x' })).toBe(out);
    writeFileSync(join(out, 'run.json'), '{"keep": true}');
    expect(() => createRunDir({ out, prefix: 'x' })).toThrow(UsageError);
    expect(() => createRunDir({ out, prefix: 'x' })).toThrow(/already exists and is not empty.*--resume/);
    expect(readFileSync(join(out, 'run.json'), 'utf8')).toBe('{"keep": true}');
    const empty = join(root, 'empty');
    mkdirSync(empty);
    expect(createRunDir({ out: empty, prefix: 'x' })).toBe(empty);
  });

  it('gives default names a suffix instead of reusing a directory', () => {
    root = mkdtempSync(join(tmpdir(), 'run-dir-'));
    const a = createRunDir({ root, prefix: 'demo' });
    const b = createRunDir({ root, prefix: 'demo' });
    expect(a).not.toBe(b);
    expect(basename(a)).toMatch(/^demo-\d{4}-\d\d-\d\dT/);
    expect(readdirSync(root)).toHaveLength(2);
  });

  it('fails with a run error when the output cannot be created', () => {
    root = mkdtempSync(join(tmpdir(), 'run-dir-'));
    const file = join(root, 'file');
    writeFileSync(file, 'x');
    expect(() => createRunDir({ out: join(file, 'sub'), prefix: 'x' })).toThrow(RunFailedError);
    expect(() => createRunDir({ out: file, prefix: 'x' })).toThrow(/exists and is not a directory/);
  });

  it('writes atomically: the old content stays until the new is complete, no temporary file is left', () => {
    root = mkdtempSync(join(tmpdir(), 'run-dir-'));
    const path = join(root, 'run.json');
    writeFileAtomic(path, 'one');
    writeFileAtomic(path, 'two');
    expect(readFileSync(path, 'utf8')).toBe('two');
    expect(readdirSync(root)).toEqual(['run.json']);
    expect(() => writeFileAtomic(join(root, 'missing', 'x.json'), 'y')).toThrow(/cannot write/);
    expect(readdirSync(root)).toEqual(['run.json']);
  });
});
