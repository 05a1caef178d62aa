import type { JobUnit } from './job-units.js';

/** What {@link slurmScripts} writes into. */
export interface SlurmScriptOptions {
  /** Absolute path of the experiment file. */
  readonly file: string;
  /** Absolute output root of the units. */
  readonly root: string;
  /** Absolute directory of the scripts (logs go to `<dir>/logs`). */
  readonly dir: string;
  /** The command line that starts distill on a compute node (already shell-quoted). */
  readonly distill: string;
  /** Job-name prefix. */
  readonly name: string;
  readonly partition?: string | undefined;
  readonly cpusPerTask?: number | undefined;
  readonly gpus?: number | undefined;
  readonly time?: string | undefined;
  readonly maxParallel?: number | undefined;
}

/** Quotes a word for POSIX shells. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The arrays in the order they run: teachers, their logit shards, students. */
export const ARRAY_LABELS = [
  ['teacher', 'teachers'],
  ['logits', 'teacher_logits'],
  ['student', 'students'],
] as const;

/** One array of units that run alike: the teachers, or the students. */
interface UnitArray {
  readonly script: string;
  readonly label: string;
  readonly units: readonly JobUnit[];
}

function arrays(units: readonly JobUnit[]): UnitArray[] {
  return ARRAY_LABELS.map(([kind, label]) => ({
    script: `${label}.sbatch`,
    label,
    units: units.filter((u) => u.kind === kind),
  })).filter((a) => a.units.length > 0);
}

function header(o: SlurmScriptOptions, label: string, extra: readonly string[], training: boolean): string[] {
  return [
    '#!/bin/bash',
    `#SBATCH --job-name=${o.name}-${label}`,
    ...extra,
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    ...(o.cpusPerTask ? [`#SBATCH --cpus-per-task=${o.cpusPerTask}`] : []),
    ...(o.gpus && training ? [`#SBATCH --gpus=${o.gpus}`] : []),
    ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
    'set -euo pipefail',
  ];
}

function arrayScript(o: SlurmScriptOptions, a: UnitArray): string {
  const first = a.units[0]!.index;
  const last = a.units[a.units.length - 1]!.index;
  const limit = o.maxParallel ? `%${o.maxParallel}` : '';
  const lines = header(
    o,
    a.label,
    [
      `#SBATCH --array=0-${a.units.length - 1}${limit}`,
      `#SBATCH --output=${o.dir}/logs/${a.label}-%A_%a.out`,
    ],
    true,
  );
  lines.push(
    `# Array task i runs unit ${first} + i of \`distill run FILE --list-jobs\` (units ${first}-${last}: ${a.units.map((u) => u.id).join(', ')}).`,
    '# A task that is cancelled or killed resumes from its checkpoint when submitted again: sbatch --array=i THIS_SCRIPT',
    `exec ${o.distill} run ${shellQuote(o.file)} --out ${shellQuote(o.root)} --job-index $((SLURM_ARRAY_TASK_ID + ${first}))`,
  );
  return `${lines.join('\n')}\n`;
}

function mergeScript(o: SlurmScriptOptions): string {
  const lines = header(o, 'merge', [`#SBATCH --output=${o.dir}/logs/merge-%j.out`], false);
  lines.push(`exec ${o.distill} merge ${shellQuote(o.root)}`);
  return `${lines.join('\n')}\n`;
}

function submitScript(list: readonly UnitArray[]): string {
  const lines = [
    '#!/bin/bash',
    '# Submits the arrays in order, each after the one before it succeeded (afterok), then the merge job,',
    '# which runs when the last array has ended however it ended (afterany) and names any unit that did not finish.',
    '# To finish after a task failed or was cancelled: sbatch --array=i <its script>, then',
    '#   sbatch --dependency=afterok:<that job id> merge.sbatch',
    'set -euo pipefail',
    'here="$(cd "$(dirname "$0")" && pwd)"',
    'submit() { sbatch --parsable "$@" | cut -d\';\' -f1; }',
  ];
  let previous = '';
  for (const a of list) {
    const dep = previous ? `--dependency=afterok:$${previous} ` : '';
    lines.push(`${a.label}=$(submit ${dep}"$here/${a.script}")`);
    previous = a.label;
  }
  lines.push(`merge=$(submit --dependency=afterany:$${previous} "$here/merge.sbatch")`);
  lines.push(`echo ${list.map((a) => `${a.label}=$${a.label}`).join(' ')} merge=$merge`);
  return `${lines.join('\n')}\n`;
}

/**
 * The sbatch scripts of an experiment: one job array per kind of unit (teachers, then students), each task
 * running `distill run FILE --job-index <array index + offset>`, a merge job, and `submit.sh`, which submits
 * them with `--dependency=afterok` between the arrays. Returns file name → contents.
 */
export function slurmScripts(units: readonly JobUnit[], o: SlurmScriptOptions): Record<string, string> {
  const list = arrays(units);
  const files: Record<string, string> = {};
  for (const a of list) files[a.script] = arrayScript(o, a);
  files['merge.sbatch'] = mergeScript(o);
  files['submit.sh'] = submitScript(list);
  return files;
}
