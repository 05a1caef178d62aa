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

  it('every publishable package is ESM, side-effect free or explicit, and lists types first', () => {
    for (const pkg of publishablePackages()) {
      const j = pkg.json as {
        type?: string;
        sideEffects?: unknown;
        exports?: Record<string, Record<string, string> | string>;
      };
      expect(j.type, pkg.name).toBe('module');
      expect(j.sideEffects, pkg.name).toBeDefined();
      const root = j.exports?.['.'];
      expect(typeof root === 'object' && Object.keys(root)[0], pkg.name).toBe('types');
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
