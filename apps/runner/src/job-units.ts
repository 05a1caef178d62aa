import { UsageError } from './exit-code.js';
import { type ExpandedStudent, expandStudents, studentSeedsOf, studentStageId } from './experiment-runner.js';
import type { Experiment } from './experiment-schema.js';

/** What a unit of work does. */
export type JobUnitKind = 'teacher' | 'logits' | 'student';

/** One independent unit of an experiment's work: one model with one seed. */
export interface JobUnit {
  /** Position in {@link listJobUnits}'s order (`--job-index`). */
  readonly index: number;
  /** Stable id, also the stage id in the run record: `teacher-s1`, `distilled-s2`. */
  readonly id: string;
  readonly kind: JobUnitKind;
  readonly seed: number;
  /**
   * Student units: the teacher seed whose loop of a one-process run trains it (with `studentSeeds`, a
   * distilled student learns from that teacher; without, it equals `seed`).
   */
  readonly teacherSeed?: number;
  /** Row name in the results table. */
  readonly name: string;
  /** The ids of the units whose output this one needs first (a teacher, or its logit shards). */
  readonly needs: readonly string[];
  /** Logits units: which shard of how many, of which teacher (`teacher-s1`, or `teacher` for a path). */
  readonly shard?: { readonly index: number; readonly count: number; readonly teacher: string };
  /** The expanded student (student units). */
  readonly student?: ExpandedStudent;
}

/**
 * Enumerates an experiment's units of work in a stable order: every teacher × seed first (in the order of
 * `seeds`), then every student × seed × setting in the order a one-process run trains them (teacher seed by
 * teacher seed, then student seed by student seed — `studentSeeds` when given —, students in file order,
 * the sweep expanded; a baseline shared by every teacher seed once). The ids are the stage ids of a
 * one-process `distill run`, so a unit's record is that run's stage record.
 */
export function listJobUnits(exp: Experiment): JobUnit[] {
  const seeds = exp.seeds ?? [1];
  const trainsTeacher = Boolean(exp.teacher && 'model' in exp.teacher);
  const teacherName = exp.teacher && 'model' in exp.teacher ? (exp.teacher.name ?? 'teacher') : 'teacher';
  const units: JobUnit[] = [];
  const add = (u: Omit<JobUnit, 'index'>) => units.push({ index: units.length, ...u });
  if (trainsTeacher) {
    for (const seed of seeds)
      add({ id: `teacher-s${seed}`, kind: 'teacher', seed, name: teacherName, needs: [] });
  }
  const shards = (teacher: string, seed: number) =>
    Array.from({ length: exp.teacherLogits?.shards ?? 0 }, (_, i) => ({
      id: `${teacher}-logits-${i}-of-${exp.teacherLogits!.shards}`,
      kind: 'logits' as const,
      seed,
      name: `${teacher} logits`,
      needs: trainsTeacher ? [teacher] : [],
      shard: { index: i, count: exp.teacherLogits!.shards, teacher },
    }));
  for (const [teacher, seed] of trainsTeacher
    ? seeds.map((s) => [`teacher-s${s}`, s] as const)
    : [['teacher', seeds[0]!] as const]) {
    if (exp.teacher) for (const u of shards(teacher, seed)) add(u);
  }
  const students = expandStudents(exp);
  for (const teacherSeed of seeds) {
    const teacher = trainsTeacher ? `teacher-s${teacherSeed}` : 'teacher';
    const logits = units.filter((u) => u.shard?.teacher === teacher).map((u) => u.id);
    for (const seed of studentSeedsOf(exp, teacherSeed)) {
      for (const st of students) {
        const id = studentStageId(exp, st, seed, teacherSeed);
        if (units.some((u) => u.id === id)) continue; // a baseline shared by every teacher seed
        const distils = (st.spec.loss ?? 'kd') !== 'ce';
        const needs = !distils ? [] : logits.length ? logits : trainsTeacher ? [teacher] : [];
        add({ id, kind: 'student', seed, teacherSeed, name: st.name, needs, student: st });
      }
    }
  }
  return units;
}

/**
 * The units in the order a one-process `distill run` trains them: teacher seed by teacher seed, its
 * teacher, then the students of its loop (logit shards are not stages).
 */
export function oneProcessOrder(exp: Experiment, units: readonly JobUnit[]): JobUnit[] {
  const seeds = exp.seeds ?? [1];
  return seeds.flatMap((seed) => [
    ...units.filter((u) => u.kind === 'teacher' && u.seed === seed),
    ...units.filter((u) => u.kind === 'student' && u.teacherSeed === seed),
  ]);
}

function idList(units: readonly JobUnit[]): string {
  const ids = units.map((u) => u.id);
  return ids.length > 8 ? `${ids.slice(0, 8).join(', ')}, ... (${ids.length} in all)` : ids.join(', ');
}

/** Picks the unit named by `--job ID` or `--job-index I` (exit 2 for an unknown id or an index out of range). */
export function pickJobUnit(
  units: readonly JobUnit[],
  choice: { job?: string | undefined; jobIndex?: number | undefined },
  file: string,
): JobUnit {
  if (choice.job !== undefined && choice.jobIndex !== undefined) {
    throw new UsageError('--job and --job-index name the same thing; give one of them');
  }
  if (choice.job !== undefined) {
    const unit = units.find((u) => u.id === choice.job);
    if (!unit) {
      throw new UsageError(
        `--job ${choice.job}: no such unit in ${file}; its units are ${idList(units)} (see --list-jobs)`,
        { where: '--job' },
      );
    }
    return unit;
  }
  const i = choice.jobIndex;
  if (i === undefined || !Number.isInteger(i) || i < 0 || i >= units.length) {
    throw new UsageError(
      `--job-index ${i}: out of range; ${file} has ${units.length} unit${units.length === 1 ? '' : 's'}, indices 0 to ${units.length - 1} (see --list-jobs)`,
      { where: '--job-index' },
    );
  }
  return units[i]!;
}
