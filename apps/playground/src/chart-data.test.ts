import { describe, expect, it } from 'vitest';
import {
  Curves,
  chartDatasets,
  curveTable,
  decimate,
  restoreCurves,
  sharedXMax,
  snapshotCurves,
} from './chart-data.js';

describe('Curves', () => {
  it('places batch losses at fractional epochs and smooths them', () => {
    const c = new Curves(0.5);
    c.addLoss('teacher', 0, 0, 4, 2);
    c.addLoss('teacher', 0, 1, 4, 1);
    c.addLoss('teacher', 1, 3, 4, Number.NaN);
    expect(c.loss.teacher).toEqual([
      { x: 0.25, y: 2 },
      { x: 0.5, y: 1.5 },
    ]);
    expect(c.loss.baseline).toEqual([]);
  });

  it('keeps runs apart and clears one run only', () => {
    const c = new Curves(0);
    c.addAccuracy('baseline', 1, 0.9);
    c.addAccuracy('distilled', 1, 0.95);
    c.clear('baseline');
    expect(c.accuracy.baseline).toEqual([]);
    expect(c.accuracy.distilled).toEqual([{ x: 1, y: 0.95 }]);
  });

  it('refuses a smoothing factor outside [0, 1)', () => {
    expect(() => new Curves(1)).toThrow(/smoothing must be in \[0, 1\)/);
  });
});

describe('decimate', () => {
  it('keeps first and last and at most maxPoints', () => {
    const pts = Array.from({ length: 1001 }, (_, i) => ({ x: i, y: i }));
    const d = decimate(pts, 11);
    expect(d).toHaveLength(11);
    expect(d[0]).toEqual({ x: 0, y: 0 });
    expect(d[10]).toEqual({ x: 1000, y: 1000 });
    expect(d[5]).toEqual({ x: 500, y: 500 });
  });
  it('returns short inputs unchanged', () => {
    expect(decimate([{ x: 1, y: 2 }], 5)).toEqual([{ x: 1, y: 2 }]);
  });
});

describe('chartDatasets', () => {
  it('returns all three runs in a fixed order with accuracy in percent', () => {
    const c = new Curves(0);
    c.addAccuracy('distilled', 2, 0.975);
    const ds = chartDatasets(c, 'accuracy');
    expect(ds.map((d) => d.label)).toEqual(['Teacher', 'Baseline student', 'Distilled student']);
    expect(ds[2]!.data).toEqual([{ x: 2, y: 97.5 }]);
    expect(new Set(ds.map((d) => d.borderColor)).size).toBe(3);
  });
});

describe('sharedXMax', () => {
  it('is the longest run, at least 1', () => {
    expect(sharedXMax({ teacher: 5, baseline: 3, distilled: 3 })).toBe(5);
    expect(sharedXMax({})).toBe(1);
  });
});

describe('curve snapshots and tables', () => {
  it('round-trips the curves and tabulates them per epoch', () => {
    const c = new Curves(0);
    c.addLoss('teacher', 0, 0, 2, 2);
    c.addLoss('teacher', 0, 1, 2, 1.5);
    c.addLoss('teacher', 1, 0, 2, 1);
    c.addLoss('teacher', 1, 1, 2, 0.5);
    c.addAccuracy('teacher', 1, 0.8);
    c.addAccuracy('teacher', 2, 0.9);
    c.addLoss('distilled', 0, 0, 1, 3);
    const copy = new Curves(0);
    restoreCurves(copy, JSON.parse(JSON.stringify(snapshotCurves(c))));
    expect(copy.loss.teacher).toEqual(c.loss.teacher);
    expect(copy.accuracy.teacher).toEqual(c.accuracy.teacher);
    expect(curveTable(copy, 'loss')).toEqual({
      header: ['Epoch', 'Teacher', 'Distilled student'],
      rows: [
        ['1', '1.5000', '3.0000'],
        ['2', '0.5000', '–'],
      ],
    });
    expect(curveTable(copy, 'accuracy').rows).toEqual([
      ['1', '80.00%'],
      ['2', '90.00%'],
    ]);
  });
});
