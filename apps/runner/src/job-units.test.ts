import { describe, expect, it } from 'vitest';
import { validateExperiment } from './experiment-schema.js';
import { listJobUnits, oneProcessOrder, pickJobUnit } from './job-units.js';

const sweep = validateExperiment({
  dataset: { name: 'synthetic' },
  seeds: [7, 8],
  teacher: { model: 'mlp' },
  students: [
    { name: 'base', model: 'mlp', loss: 'ce' },
    { name: 'kd', model: 'mlp' },
  ],
  sweep: { temperature: [2, 4] },
});

describe('listJobUnits', () => {
  it('lists teachers × seed, then students × seed × setting, with the stage ids of a one-process run', () => {
    const units = listJobUnits(sweep);
    expect(units.map((u) => [u.index, u.id, u.needs.join(',') || null])).toEqual([
      [0, 'teacher-s7', null],
      [1, 'teacher-s8', null],
      [2, 'base-s7', null],
      [3, 'kd-t-2-s7', 'teacher-s7'],
      [4, 'kd-t-4-s7', 'teacher-s7'],
      [5, 'base-s8', null],
      [6, 'kd-t-2-s8', 'teacher-s8'],
      [7, 'kd-t-4-s8', 'teacher-s8'],
    ]);
    expect(units[4]!.student!.temperature).toBe(4);
    expect(listJobUnits(structuredClone(sweep))).toEqual(units);
    expect(oneProcessOrder(sweep, units).map((u) => u.id)).toEqual([
      'teacher-s7',
      'base-s7',
      'kd-t-2-s7',
      'kd-t-4-s7',
      'teacher-s8',
      'base-s8',
      'kd-t-2-s8',
      'kd-t-4-s8',
    ]);
  });

  it('studentSeeds: a distilled student per (teacher seed, student seed), a baseline once per student seed', () => {
    const exp = validateExperiment({ ...sweep, sweep: undefined, seeds: [1, 2], studentSeeds: [5, 6] });
    const units = listJobUnits(exp);
    expect(units.map((u) => [u.id, u.seed, u.teacherSeed ?? null, u.needs.join(',') || null])).toEqual([
      ['teacher-s1', 1, null, null],
      ['teacher-s2', 2, null, null],
      ['base-s5', 5, 1, null],
      ['kd-t1-s5', 5, 1, 'teacher-s1'],
      ['base-s6', 6, 1, null],
      ['kd-t1-s6', 6, 1, 'teacher-s1'],
      ['kd-t2-s5', 5, 2, 'teacher-s2'],
      ['kd-t2-s6', 6, 2, 'teacher-s2'],
    ]);
    // the order in which a one-process run trains them (teacher seed by teacher seed)
    expect(oneProcessOrder(exp, units).map((u) => u.id)).toEqual([
      'teacher-s1',
      'base-s5',
      'kd-t1-s5',
      'base-s6',
      'kd-t1-s6',
      'teacher-s2',
      'kd-t2-s5',
      'kd-t2-s6',
    ]);
  });

  it('a teacher given by path is no unit, and its students need none', () => {
    const exp = validateExperiment({
      dataset: { name: 'synthetic' },
      teacher: { path: 'runs/teacher' },
      students: [{ name: 'kd', model: 'mlp' }],
    });
    expect(listJobUnits(exp)).toEqual([
      expect.objectContaining({ index: 0, id: 'kd-s1', kind: 'student', seed: 1 }),
    ]);
    expect(listJobUnits(exp)[0]!.needs).toEqual([]);
  });

  it('teacher logits in shards: one unit per shard after its teacher; distilling students need every shard', () => {
    const exp = validateExperiment({ ...sweep, sweep: undefined, teacherLogits: { shards: 2 } });
    expect(listJobUnits(exp).map((u) => [u.id, u.kind, u.needs.join(',')])).toEqual([
      ['teacher-s7', 'teacher', ''],
      ['teacher-s8', 'teacher', ''],
      ['teacher-s7-logits-0-of-2', 'logits', 'teacher-s7'],
      ['teacher-s7-logits-1-of-2', 'logits', 'teacher-s7'],
      ['teacher-s8-logits-0-of-2', 'logits', 'teacher-s8'],
      ['teacher-s8-logits-1-of-2', 'logits', 'teacher-s8'],
      ['base-s7', 'student', ''],
      ['kd-s7', 'student', 'teacher-s7-logits-0-of-2,teacher-s7-logits-1-of-2'],
      ['base-s8', 'student', ''],
      ['kd-s8', 'student', 'teacher-s8-logits-0-of-2,teacher-s8-logits-1-of-2'],
    ]);
    expect(() =>
      validateExperiment({ ...exp, teacher: undefined, students: [{ name: 'b', model: 'mlp', loss: 'ce' }] }),
    ).toThrow(/teacherLogits: teacher logits need a teacher/);
  });
});

describe('pickJobUnit', () => {
  const units = listJobUnits(sweep);
  it('picks by id or by index', () => {
    expect(pickJobUnit(units, { job: 'kd-t-4-s8' }, 'x.yaml').index).toBe(7);
    expect(pickJobUnit(units, { jobIndex: 0 }, 'x.yaml').id).toBe('teacher-s7');
  });
  it('refuses an unknown id, an index out of range, or both flags, in one line', () => {
    expect(() => pickJobUnit(units, { job: 'kd-s7' }, 'x.yaml')).toThrow(
      /^--job kd-s7: no such unit in x\.yaml; its units are teacher-s7, teacher-s8, base-s7, kd-t-2-s7, kd-t-4-s7, base-s8, kd-t-2-s8, kd-t-4-s8 \(see --list-jobs\)$/,
    );
    expect(() => pickJobUnit(units, { jobIndex: 8 }, 'x.yaml')).toThrow(
      /^--job-index 8: out of range; x\.yaml has 8 units, indices 0 to 7 \(see --list-jobs\)$/,
    );
    expect(() => pickJobUnit(units, { job: 'base-s7', jobIndex: 2 }, 'x.yaml')).toThrow(/give one of them/);
  });
});
