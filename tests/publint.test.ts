import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { describe, expect, it } from 'vitest';
import { publishablePackages } from './workspace.js';

describe('publint', () => {
  for (const pkg of publishablePackages()) {
    it(`${pkg.name} has no publint errors or warnings`, async () => {
      const { messages } = await publint({ pkgDir: pkg.dir, level: 'warning', strict: false, pack: 'npm' });
      const json = JSON.parse(readFileSync(join(pkg.dir, 'package.json'), 'utf8'));
      const text = messages.map((m) => `${m.type}: ${formatMessage(m, json)}`);
      expect(text).toEqual([]);
    });
  }

  it('every publishable package is ESM with a CJS build for require, and lists types first', () => {
    for (const pkg of publishablePackages()) {
      const j = pkg.json as {
        type?: string;
        sideEffects?: unknown;
        exports?: Record<string, Record<string, unknown> | string>;
      };
      expect(j.type, pkg.name).toBe('module');
      expect(j.sideEffects, pkg.name).toBeDefined();
      for (const [entry, target] of Object.entries(j.exports ?? {})) {
        if (typeof target === 'string') continue;
        const where = `${pkg.name} exports['${entry}']`;
        const imp = target.import as Record<string, string>;
        const req = target.require as Record<string, string>;
        expect(Object.keys(imp ?? {}), `${where}.import`).toEqual(['types', 'default']);
        expect(Object.keys(req ?? {}), `${where}.require`).toEqual(['types', 'default']);
        expect(imp.default, where).toMatch(/\.js$/);
        expect(req.default, where).toMatch(/\.cjs$/);
        expect(req.types, where).toMatch(/\.d\.cts$/);
        for (const nested of Object.values(target)) {
          if (typeof nested === 'object' && nested && 'types' in nested) {
            expect(Object.keys(nested)[0], where).toBe('types');
          }
        }
      }
    }
  });

  it('pins one TensorFlow.js version across the workspace', () => {
    const versions = new Set<string>();
    for (const pkg of publishablePackages().concat([])) {
      for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
        const deps = (pkg.json[field] ?? {}) as Record<string, string>;
        for (const [name, range] of Object.entries(deps)) {
          if (name.startsWith('@tensorflow/')) versions.add(range.replace(/^[\^~]/, ''));
        }
      }
    }
    expect([...versions]).toEqual(['4.22.0']);
  });
});
