import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstCodeBlock, publishablePackages } from './workspace.js';

// As an npm user would: pack every publishable package, install the tarballs into an empty project outside
// the workspace (with the tfjs packages from the registry), and run each README's example there.
const TF = '4.22.0';
const pkgs = publishablePackages();
let project = '';

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
}

describe('packed packages install and their README examples run', () => {
  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'distilljs-pack-'));
    const tarballs = join(project, 'tarballs');
    mkdirSync(tarballs);
    for (const pkg of pkgs)
      run('npx', ['-y', 'pnpm@9.15.9', 'pack', '--pack-destination', tarballs], pkg.dir);
    const files = readdirSync(tarballs).map((f) => join(tarballs, f));
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'npm-user', private: true, type: 'module' }),
    );
    run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        ...files,
        `@tensorflow/tfjs-core@${TF}`,
        `@tensorflow/tfjs-layers@${TF}`,
        `@tensorflow/tfjs-backend-cpu@${TF}`,
        `@tensorflow/tfjs-backend-wasm@${TF}`,
      ],
      project,
    );
  });

  afterAll(() => {
    if (project && !process.env.KEEP_PACK_PROJECT) rmSync(project, { recursive: true, force: true });
  });

  for (const pkg of pkgs) {
    it(`${pkg.name}: the README example runs from the installed tarball`, () => {
      const readme = readFileSync(join(pkg.dir, 'README.md'), 'utf8');
      const js = firstCodeBlock(readme, 'js');
      const sh = firstCodeBlock(readme, 'sh');
      expect(js ?? sh, `${pkg.name} README needs a \`\`\`js or \`\`\`sh example`).toBeDefined();
      if (js) {
        const file = join(project, `example-${pkg.name.replace(/\W+/g, '-')}.mjs`);
        writeFileSync(file, js);
        const out = run('node', [file], project);
        expect(out.length).toBeGreaterThan(0);
      } else if (sh) {
        const lines = sh
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('#') && !/^(npm (i|install)|pnpm add|yarn add)\b/.test(l));
        for (const line of lines) {
          const out = execFileSync('bash', ['-c', line], {
            cwd: project,
            encoding: 'utf8',
            env: { ...process.env, PATH: `${join(project, 'node_modules', '.bin')}:${process.env.PATH}` },
            timeout: 300_000,
          });
          expect(out.length).toBeGreaterThan(0);
        }
      }
    });
  }
});
