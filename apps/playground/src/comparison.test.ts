import { describe, expect, it } from 'vitest';
import { comparisonRows, gapSummary, type RunResult, teacherFileSentence, testErrors } from './comparison.js';

const base = { testLoss: 0.1, testCount: 2000, epochs: 3, seconds: 4.2, stopped: false, dataset: 'mnist' };
const results: RunResult[] = [
  { ...base, run: 'distilled', model: 'mlp-small', params: 25_450, accuracy: 0.95, teacher: 'mlp #1' },
  { ...base, run: 'teacher', model: 'mlp', params: 1_275_210, accuracy: 0.97, teacher: 'mlp #1' },
  { ...base, run: 'baseline', model: 'mlp-small', params: 25_450, accuracy: 0.93 },
];

describe('comparisonRows', () => {
  it('orders teacher, baseline, distilled and formats every column', () => {
    const rows = comparisonRows(results);
    expect(rows.map((r) => r.run)).toEqual(['teacher', 'baseline', 'distilled']);
    expect(rows[0]).toMatchObject({
      params: '1,275,210',
      testErrors: '60 / 2,000',
      accuracy: '97.00%',
      // the teacher is compared with the baseline too (issue 25: the column was blank for it)
      vsBaseline: '-80',
    });
    expect(rows[1]!.vsBaseline).toBe('');
    expect(rows[2]).toMatchObject({
      name: 'Distilled student',
      testErrors: '100 / 2,000',
      vsBaseline: '-40',
    });
    expect(rows[1]!.time).toBe('4.2 s');
  });

  it('never mixes datasets, test sets or teachers: what differs from the newest student is left out', () => {
    const fashionTeacher = { ...results[1]!, dataset: 'fashion-mnist', testCount: 1000, teacher: 'cnn #2' };
    const fashionStudents = results
      .filter((r) => r.run !== 'teacher')
      .map((r) => ({ ...r, dataset: 'fashion-mnist', testCount: 1000, teacher: r.teacher && 'cnn #2' }));
    // an MNIST teacher beside Fashion-MNIST students: left out
    expect(comparisonRows([results[1]!, ...fashionStudents]).map((r) => r.run)).toEqual([
      'baseline',
      'distilled',
    ]);
    expect(comparisonRows([fashionTeacher, ...fashionStudents]).map((r) => r.run)).toEqual([
      'teacher',
      'baseline',
      'distilled',
    ]);
    // the same dataset with another test-set size, or another teacher: left out
    expect(comparisonRows([results[0]!, { ...results[2]!, testCount: 1000 }]).map((r) => r.run)).toEqual([
      'distilled',
    ]);
    expect(comparisonRows([{ ...results[1]!, teacher: 'mlp #7' }, results[0]!]).map((r) => r.run)).toEqual([
      'distilled',
    ]);
    expect(gapSummary([results[1]!, ...fashionStudents])).toBeUndefined();
  });

  it('marks stopped runs and works with a partial set', () => {
    const rows = comparisonRows([{ ...results[1]!, stopped: true }]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.name).toBe('Teacher (stopped)');
  });
});

describe('testErrors / gapSummary', () => {
  it('rounds errors from accuracy', () => {
    expect(testErrors(0.9735, 2000)).toBe(53);
  });
  it('summarises the share of the gap closed', () => {
    expect(gapSummary(results)).toBe(
      'The distilled student made 40 fewer test errors than the baseline student (100 vs 140; teacher 60). It closed 50% of the gap between baseline and teacher.',
    );
    expect(gapSummary(results.slice(0, 2))).toBeUndefined();
  });
  it('says so when distillation made things worse, without a gap share', () => {
    const worse = results.map((r) => (r.run === 'distilled' ? { ...r, accuracy: 0.92 } : r));
    expect(gapSummary(worse)).toBe(
      'The distilled student made 20 more test errors than the baseline student (160 vs 140; teacher 60).',
    );
  });
  it('says "as many" for no difference, never "made 0 fewer"', () => {
    const same = results.map((r) => (r.run === 'distilled' ? { ...r, accuracy: 0.93 } : r));
    expect(gapSummary(same)).toBe(
      'The distilled student made as many test errors as the baseline student (140 vs 140; teacher 60).',
    );
    expect(comparisonRows(same)[2]!.vsBaseline).toBe('±0');
  });
});

describe('teacherFileSentence', () => {
  it('names the teacher file the distilled student learned from; nothing for a teacher trained here', () => {
    expect(teacherFileSentence(results)).toBeUndefined();
    const fromFile = results.map((r) => (r.run === 'baseline' ? r : { ...r, teacherFile: 'net.onnx' }));
    expect(teacherFileSentence(fromFile)).toBe(
      'The distilled student learned from the teacher file net.onnx (loaded, not trained here).',
    );
    expect(teacherFileSentence(fromFile.filter((r) => r.run === 'teacher'))).toBe(
      'The teacher is the file net.onnx (loaded, not trained here).',
    );
  });
});
