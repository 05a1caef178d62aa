import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRegistry, startLocalRegistry } from './local-registry.js';
import { codeBlocks, firstCodeBlock, publishablePackages, ROOT } from './workspace.js';

// As an npm user would: pack every publishable package, install the tarballs into an empty CommonJS project
// outside the workspace (with the tfjs packages the READMEs name, and the @tensorflow/tfjs umbrella, from the
// registry or npm's cache), run each README's ESM example and its CommonJS (require) example there, and
// type-check all of them under `strict` (checkJs), as written and with the umbrella in place of tfjs-core.
const TF = '4.22.0';
const pkgs = publishablePackages();
const UMBRELLA = '@tensorflow/tfjs';
const execFileAsync = promisify(execFile);
let work = '';
let tarballs: string[] = [];
let project = '';

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(cmd, args, {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
}

/** The package a specifier names: `@scope/name` or `name`, without a subpath or version. */
function packageOf(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? spec);
}

/** Every package a JavaScript example imports or requires (Node built-ins excluded). */
function importedPackages(code: string): Set<string> {
  const specs = [...code.matchAll(/(?:from\s+|import\s*\(?\s*|require\(\s*)'([^']+)'/g)].map((m) => m[1]!);
  return new Set(specs.filter((s) => !s.startsWith('node:') && !s.startsWith('.')).map(packageOf));
}

/** The packages named by each `npm install` line of a README's first ```sh block, versions stripped. */
function installLines(readme: string): string[][] {
  const sh = firstCodeBlock(readme, 'sh') ?? '';
  return sh
    .split('\n')
    .filter((l) => /^npm (i|install) /.test(l.trim()))
    .map((l) =>
      l
        .trim()
        .split(/\s+/)
        .slice(2)
        .filter((w) => !w.startsWith('-'))
        .map((w) => w.replace(/(.)@[^/]*$/, '$1')),
    );
}

function readme(dir: string): string {
  return readFileSync(join(dir, 'README.md'), 'utf8');
}

/** The README's first ```js block that uses require(): its CommonJS example. */
function cjsExample(text: string): string | undefined {
  return codeBlocks(text, 'js').find((b) => /\brequire\(/.test(b));
}

const fileName = (name: string, suffix: string) => `example-${name.replace(/\W+/g, '-')}${suffix}`;

function packAll(dest: string): string[] {
  mkdirSync(dest);
  for (const pkg of pkgs) run('npx', ['-y', 'pnpm@9.15.9', 'pack', '--pack-destination', dest], pkg.dir);
  return readdirSync(dest).map((f) => join(dest, f));
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'distilljs-pack-'));
  tarballs = packAll(join(work, 'tarballs'));
});

afterAll(() => {
  if (work && !process.env.KEEP_PACK_PROJECT) rmSync(work, { recursive: true, force: true });
});

describe('each README names what its examples import', () => {
  for (const pkg of pkgs) {
    const text = readme(pkg.dir);
    const js = firstCodeBlock(text, 'js');
    if (!js) continue;
    it(`${pkg.name}: the first install line names every package the examples import; the umbrella is shown`, () => {
      const lines = installLines(text);
      expect(lines.length, `${pkg.name} README needs an npm install line`).toBeGreaterThan(0);
      const named = new Set(lines[0]);
      for (const dep of importedPackages(js)) expect(named, `${pkg.name} README install line`).toContain(dep);
      const umbrella = lines.find((l) => l.includes(UMBRELLA));
      expect(umbrella, `${pkg.name} README: an npm install line with ${UMBRELLA}`).toBeDefined();
      const cjs = cjsExample(text);
      expect(cjs, `${pkg.name} README needs a CommonJS (require) example`).toBeDefined();
      for (const dep of importedPackages(cjs ?? '')) expect(umbrella).toContain(dep);
    });
  }
});

describe('packed packages install into an empty CommonJS project and their README examples run', () => {
  beforeAll(() => {
    project = join(work, 'npm-user');
    mkdirSync(project);
    // No "type" field: a CommonJS project, as Jest and ts-node setups are.
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'npm-user', private: true }));
    const tfjs = new Set([UMBRELLA]);
    for (const pkg of pkgs)
      for (const line of installLines(readme(pkg.dir)))
        for (const name of line) if (name.startsWith('@tensorflow/')) tfjs.add(name);
    run(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--loglevel=error',
        ...tarballs,
        ...[...tfjs].map((name) => `${name}@${TF}`),
      ],
      project,
    );
  });

  for (const pkg of pkgs) {
    it(`${pkg.name}: the README example runs from the installed tarball`, () => {
      const text = readme(pkg.dir);
      const js = firstCodeBlock(text, 'js');
      const sh = firstCodeBlock(text, 'sh');
      expect(js ?? sh, `${pkg.name} README needs a \`\`\`js or \`\`\`sh example`).toBeDefined();
      if (js) {
        const file = join(project, fileName(pkg.name, '.mjs'));
        writeFileSync(file, js);
        expect(run('node', [file], project).length).toBeGreaterThan(0);
      } else if (sh) {
        const lines = sh
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('#') && !/^(npm (i|install)|pnpm add|yarn add)\b/.test(l));
        const env = { ...process.env, PATH: `${join(project, 'node_modules', '.bin')}:${process.env.PATH}` };
        for (const line of lines) expect(run('bash', ['-c', line], project, env).length).toBeGreaterThan(0);
      }
    });

    const cjs = cjsExample(readme(pkg.dir));
    if (!cjs) continue;
    it(`${pkg.name}: the CommonJS example runs with require()`, () => {
      const file = join(project, fileName(pkg.name, '.cjs'));
      writeFileSync(file, cjs);
      const out = run('node', [file], project);
      expect(out.trim().length, `${pkg.name}: node ${file} printed nothing`).toBeGreaterThan(0);
    });
  }

  it('the README examples type-check under strict, as written and with the @tensorflow/tfjs umbrella', () => {
    const files: string[] = [];
    for (const pkg of pkgs) {
      const text = readme(pkg.dir);
      const js = firstCodeBlock(text, 'js');
      const cjs = cjsExample(text);
      if (js) {
        files.push(fileName(pkg.name, '-typed.mjs'));
        writeFileSync(join(project, files.at(-1)!), js);
        // The umbrella in place of the packages it brings (tfjs-core, -layers, -backend-cpu).
        const umbrella = js
          .replace(/^import '@tensorflow\/tfjs-(layers|backend-cpu)';.*$/gm, '')
          .replace(/'@tensorflow\/tfjs-core'/g, `'${UMBRELLA}'`);
        files.push(fileName(pkg.name, '-umbrella.mjs'));
        writeFileSync(join(project, files.at(-1)!), umbrella);
      }
      if (cjs) files.push(fileName(pkg.name, '.cjs')); // written by the CommonJS test; checked with checkJs
    }
    for (const f of files.filter((f) => f.endsWith('.cjs'))) {
      const pkg = pkgs.find((p) => fileName(p.name, '.cjs') === f)!;
      writeFileSync(join(project, f), cjsExample(readme(pkg.dir))!);
    }
    const tsconfig = {
      compilerOptions: {
        strict: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        lib: ['es2022', 'dom'],
        types: [],
        allowJs: true,
        checkJs: true,
        noEmit: true,
        skipLibCheck: true,
      },
      files,
    };
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    let output = '';
    try {
      output = run('node', [tsc, '-p', 'tsconfig.json'], project);
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output.trim(), 'tsc --strict on the README examples').toBe('');
    expect(files.length).toBeGreaterThanOrEqual(3 * 6);
  });
});

/**
 * npx keeps what it installed under `<npm cache>/_npx/<hash of the spec>` and reuses it while the version
 * matches, so on a developer's machine a runner packed by an earlier run (same version, older code) would be
 * run instead of this build's tarball. Remove only the npx installs of @distilljs/runner.
 */
function forgetCachedRunnerInstalls(): void {
  const npxDir = join(run('npm', ['config', 'get', 'cache'], ROOT).trim(), '_npx');
  let entries: string[] = [];
  try {
    entries = readdirSync(npxDir);
  } catch {
    return;
  }
  for (const entry of entries) {
    let manifest = '';
    try {
      manifest = readFileSync(join(npxDir, entry, 'package.json'), 'utf8');
    } catch {
      continue;
    }
    if (manifest.includes('"@distilljs/runner"'))
      rmSync(join(npxDir, entry), { recursive: true, force: true });
  }
}

describe('the runner from the packed tarballs, as npm users run it after a release', () => {
  // The @distilljs packages come from a local registry serving the packed tarballs (as npm would after a
  // release); tfjs and the rest from the usual registry or npm's cache.
  let registry: LocalRegistry | undefined;
  let empty = '';
  const scope = () => `--@distilljs:registry=${registry?.url}`;
  const runAsync = async (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) =>
    (await execFileAsync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 300_000 })).stdout;
  const npx = (args: string[]) =>
    runAsync('npx', ['-y', '--prefer-offline', scope(), '@distilljs/runner', ...args], empty);

  beforeAll(async () => {
    forgetCachedRunnerInstalls();
    registry = await startLocalRegistry(tarballs);
    empty = join(work, 'empty');
    mkdirSync(empty);
    writeFileSync(join(empty, 'package.json'), JSON.stringify({ name: 'empty', private: true }));
  });
  afterAll(() => registry?.close());

  it('npx @distilljs/runner --help prints distill --help', async () => {
    const out = await npx(['--help']);
    expect(out).toMatch(/^Usage: distill /m);
    for (const command of ['demo', 'train', 'distill', 'eval', 'export', 'predict'])
      expect(out).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it('npx @distilljs/runner demo --quick trains the teacher, the baseline and the distilled student', async () => {
    const out = await npx(['demo', '--quick', '--out', 'demo-run']);
    expect(out).toMatch(/distilled student/);
    const record = JSON.parse(readFileSync(join(empty, 'demo-run', 'run.json'), 'utf8')) as {
      status: string;
    };
    expect(record.status).toBe('complete');
  });

  it('npm install -g @distilljs/runner puts `distill` on the PATH', async () => {
    const prefix = join(work, 'global');
    await runAsync(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        prefix,
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--loglevel=error',
        scope(),
        '@distilljs/runner',
      ],
      empty,
    );
    const env = { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` };
    const out = await runAsync('bash', ['-c', 'distill --version && distill models'], empty, env);
    expect(out).toMatch(/^0\.\d+\.\d+/);
    expect(out).toMatch(/hinton-student/);
  });
});
