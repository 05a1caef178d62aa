import type { JobUnit } from './job-units.js';
import { ARRAY_LABELS } from './slurm-scripts.js';

/** Options of {@link k8sManifests}. */
export interface K8sOptions {
  /** Prefix of every object's name (a DNS label). */
  readonly name: string;
  readonly image: string;
  /** File name of the experiment inside its ConfigMap. */
  readonly fileName: string;
  /** Text of the experiment file. */
  readonly fileText: string;
  readonly pvc: string;
  readonly parallelism?: number | undefined;
  readonly gpus?: number | undefined;
}

/** Where the pods mount the PersistentVolumeClaim and the experiment's ConfigMap. */
export const K8S_RUNS_MOUNT = '/runs';
export const K8S_EXPERIMENT_MOUNT = '/experiment';

type Manifest = Record<string, unknown>;

/** A Kubernetes object name from any text: lower-case letters, digits and dashes, at most 40 characters. */
export function k8sName(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/g, '');
  return s || 'distill';
}

function container(o: K8sOptions, script: string, training: boolean): Manifest {
  return {
    name: 'distill',
    image: o.image,
    command: ['sh', '-c', script],
    env: [
      { name: 'DISTILL_EXPERIMENT', value: `${K8S_EXPERIMENT_MOUNT}/${o.fileName}` },
      { name: 'DISTILL_ROOT', value: `${K8S_RUNS_MOUNT}/${o.name}` },
    ],
    volumeMounts: [
      { name: 'runs', mountPath: K8S_RUNS_MOUNT },
      { name: 'experiment', mountPath: K8S_EXPERIMENT_MOUNT, readOnly: true },
    ],
    ...(o.gpus && training ? { resources: { limits: { 'nvidia.com/gpu': String(o.gpus) } } } : {}),
  };
}

function job(o: K8sOptions, label: string, script: string, count: number, indexed: boolean): Manifest {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: `${o.name}-${label}`,
      labels: { 'app.kubernetes.io/name': 'distill', 'distill/experiment': o.name },
    },
    spec: {
      completions: count,
      parallelism: Math.min(o.parallelism ?? count, count),
      ...(indexed ? { completionMode: 'Indexed' } : {}),
      backoffLimit: Math.max(4, count * 2),
      template: {
        metadata: { labels: { 'distill/experiment': o.name, 'distill/part': label } },
        spec: {
          restartPolicy: 'OnFailure',
          containers: [container(o, script, indexed)],
          volumes: [
            { name: 'runs', persistentVolumeClaim: { claimName: o.pvc } },
            { name: 'experiment', configMap: { name: `${o.name}-experiment` } },
          ],
        },
      },
    },
  };
}

/** The shell line of an Indexed Job's pod: unit = JOB_COMPLETION_INDEX + offset. */
export function indexedScript(offset: number): string {
  return `exec distill run "$DISTILL_EXPERIMENT" --out "$DISTILL_ROOT" --quiet --job-index $((JOB_COMPLETION_INDEX + ${offset}))`;
}

/** The merge pod's shell line: it waits (up to a day) for every unit, then merges. */
export const MERGE_SCRIPT = 'exec distill merge "$DISTILL_ROOT" --wait 86400';

/**
 * The Kubernetes objects of an experiment: a ConfigMap with the experiment file, one Indexed Job per kind
 * of unit (teachers, then students; a student waits for its teacher's unit on the shared volume), and a
 * merge Job that waits for every unit. Returns file name → object.
 */
export function k8sManifests(units: readonly JobUnit[], o: K8sOptions): Record<string, Manifest> {
  const out: Record<string, Manifest> = {
    'experiment-configmap.yaml': {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${o.name}-experiment` },
      data: { [o.fileName]: o.fileText },
    },
  };
  for (const [kind, label] of ARRAY_LABELS) {
    const group = units.filter((u) => u.kind === kind);
    if (group.length === 0) continue;
    const name = label.replace('_', '-');
    out[`${name}-job.yaml`] = job(o, name, indexedScript(group[0]!.index), group.length, true);
  }
  out['merge-job.yaml'] = job(o, 'merge', MERGE_SCRIPT, 1, false);
  return out;
}
