import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cli, ensureBuilt, experimentsDir, runDistill } from './testing/built-cli.js';

// The manifests of `distill emit k8s` checked against the Kubernetes API's JSON schemas (batch/v1 Job and
// v1 ConfigMap of Kubernetes 1.27, from the pinned npm package kubernetes-models, validated by ajv-compiled
// code), then each Indexed Job's pod command run here, once per JOB_COMPLETION_INDEX.
let work = '';

type Manifest = {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec: {
    completions: number;
    parallelism: number;
    completionMode?: string;
    template: {
      spec: {
        containers: {
          command: string[];
          env: { name: string; value: string }[];
          image: string;
          resources?: { limits: Record<string, string> };
        }[];
        volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[];
      };
    };
  };
};

function readManifests(dir: string): Record<string, Manifest> {
  const out: Record<string, Manifest> = {};
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml')))
    out[f] = parse(readFileSync(join(dir, f), 'utf8'));
  return out;
}

function validate(m: Manifest): void {
  if (m.kind === 'Job') new Job(m as never).validate();
  else if (m.kind === 'ConfigMap') new ConfigMap(m as never).validate();
  else throw new Error(`unexpected kind ${m.kind}`);
}

function sh(script: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', script], { env, cwd: work, timeout: 120_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stderr });
    });
  });
}

beforeAll(() => {
  ensureBuilt();
  work = mkdtempSync(join(tmpdir(), 'distill-k8s-'));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('distill emit k8s', () => {
  it('writes Indexed Jobs, a merge Job and a ConfigMap that validate against the Kubernetes schemas', async () => {
    writeFileSync(join(work, 'quick.yaml'), readFileSync(join(experimentsDir, 'cluster-quick.yaml')));
    const r = await runDistill(
      [
        'emit',
        'k8s',
        'quick.yaml',
        '--image',
        'registry.example/distill:0.1',
        '--parallelism',
        '3',
        '--pvc',
        'runs-pvc',
        '--gpus',
        '1',
        '--dir',
        'k8s',
      ],
      work,
    );
    expect(r.code, r.stderr).toBe(0);
    const dir = join(work, 'k8s');
    const m = readManifests(dir);
    expect(Object.keys(m).sort()).toEqual([
      'experiment-configmap.yaml',
      'merge-job.yaml',
      'students-job.yaml',
      'teachers-job.yaml',
    ]);
    for (const manifest of Object.values(m)) validate(manifest);
    const teachers = m['teachers-job.yaml']!;
    const students = m['students-job.yaml']!;
    const merge = m['merge-job.yaml']!;
    expect([teachers.spec.completionMode, teachers.spec.completions, teachers.spec.parallelism]).toEqual([
      'Indexed',
      2,
      2,
    ]);
    expect([students.spec.completionMode, students.spec.completions, students.spec.parallelism]).toEqual([
      'Indexed',
      4,
      3,
    ]);
    expect(merge.spec.completionMode).toBeUndefined();
    for (const job of [teachers, students]) {
      expect(job.spec.template.spec.containers[0]!.resources).toEqual({ limits: { 'nvidia.com/gpu': '1' } });
      expect(job.spec.template.spec.containers[0]!.image).toBe('registry.example/distill:0.1');
    }
    expect(merge.spec.template.spec.containers[0]!.resources).toBeUndefined();
    for (const job of [teachers, students, merge]) {
      expect(job.spec.template.spec.volumes[0]!.persistentVolumeClaim).toEqual({ claimName: 'runs-pvc' });
    }
    expect(m['experiment-configmap.yaml']!.data!['quick.yaml']).toBe(
      readFileSync(join(work, 'quick.yaml'), 'utf8'),
    );
    // the validator is live: a wrong completion mode or a missing container name is refused
    expect(() => validate({ ...teachers, spec: { ...teachers.spec, completionMode: 'Index' } })).toThrow(
      /completionMode/,
    );
    const nameless = structuredClone(teachers) as unknown as {
      spec: { template: { spec: { containers: object[] } } };
    };
    nameless.spec.template.spec.containers = [{ image: 'x' }];
    expect(() => validate(nameless as unknown as Manifest)).toThrow(/name/);
    const dockerfile = readFileSync(join(dir, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-slim AS build$/m);
    expect(dockerfile).toMatch(/TFJS_NODE_GPU/);
    expect(dockerfile).toMatch(/deploy --prod \/opt\/distill/);
    expect(readFileSync(join(dir, 'Dockerfile.dockerignore'), 'utf8')).toMatch(/node_modules/);
  });

  it('each index of each Indexed Job runs its own unit (JOB_COMPLETION_INDEX in turn); the merge Job merges them', async () => {
    writeFileSync(join(work, 'tiny.yaml'), readFileSync(join(experimentsDir, 'tiny.yaml')));
    const r = await runDistill(
      ['emit', 'k8s', 'tiny.yaml', '--image', 'distill:test', '--dir', 'k8s-tiny'],
      work,
    );
    expect(r.code, r.stderr).toBe(0);
    const m = readManifests(join(work, 'k8s-tiny'));
    const listed = JSON.parse((await runDistill(['run', 'tiny.yaml', '--list-jobs', '--json'], work)).stdout);
    const ids: string[] = listed.units.map((u: { id: string }) => u.id);
    // the pod's view: the ConfigMap's file at DISTILL_EXPERIMENT, the volume at DISTILL_ROOT, distill on PATH
    const bin = join(work, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'distill'), `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`);
    chmodSync(join(bin, 'distill'), 0o755);
    const podFile = join(work, 'experiment', 'tiny.yaml');
    mkdirSync(join(work, 'experiment'));
    writeFileSync(podFile, m['experiment-configmap.yaml']!.data!['tiny.yaml']!);
    const root = join(work, 'volume', 'tiny');
    const ran: string[] = [];
    for (const name of ['teachers-job.yaml', 'students-job.yaml', 'merge-job.yaml']) {
      const job = m[name]!;
      const c = job.spec.template.spec.containers[0]!;
      expect(c.command.slice(0, 2)).toEqual(['sh', '-c']);
      const podEnv = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
      expect(podEnv).toEqual({ DISTILL_EXPERIMENT: '/experiment/tiny.yaml', DISTILL_ROOT: '/runs/tiny' });
      for (let i = 0; i < job.spec.completions; i++) {
        const before = new Set(readdirSafe(join(root, 'jobs')));
        const env = {
          ...process.env,
          CI: 'true',
          PATH: `${bin}:${process.env.PATH}`,
          DISTILL_EXPERIMENT: podFile,
          DISTILL_ROOT: root,
          ...(job.spec.completionMode === 'Indexed' ? { JOB_COMPLETION_INDEX: String(i) } : {}),
        };
        const res = await sh(c.command[2]!, env);
        expect(res.code, res.stderr).toBe(0);
        const added = readdirSafe(join(root, 'jobs')).filter((d) => !before.has(d));
        if (job.spec.completionMode === 'Indexed') ran.push(...added);
        else expect(added).toEqual([]);
      }
    }
    // index i of the teachers Job ran unit i, index i of the students Job unit 2 + i: every unit once, in order
    expect(ran).toEqual(ids);
    const merged = JSON.parse(readFileSync(join(root, 'run.json'), 'utf8'));
    expect(merged.stages.map((s: { id: string }) => s.id).sort()).toEqual([...ids].sort());
    expect(merged.status).toBe('complete');
  }, 600_000);
});

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
