/** The three models the playground trains. */
export type RunId = 'teacher' | 'baseline' | 'distilled';

export const RUN_IDS: readonly RunId[] = ['teacher', 'baseline', 'distilled'];

/** Display name and colour of each run, shared by the panels, the charts and the table. */
export const RUN_STYLE: Record<RunId, { readonly label: string; readonly color: string }> = {
  teacher: { label: 'Teacher', color: '#e0a100' },
  baseline: { label: 'Baseline student', color: '#6b7fd7' },
  distilled: { label: 'Distilled student', color: '#1fae6b' },
};

/** A point on a curve: x in epochs (fractional during an epoch), y the metric. */
export interface CurvePoint {
  readonly x: number;
  readonly y: number;
}

export type Metric = 'loss' | 'accuracy';

/**
 * The curves of one session: training loss per batch (exponentially smoothed) and validation accuracy per
 * epoch, for each run. Mutated in place as logs arrive; the functions below turn it into chart data.
 */
export class Curves {
  readonly loss: Record<RunId, CurvePoint[]> = { teacher: [], baseline: [], distilled: [] };
  readonly accuracy: Record<RunId, CurvePoint[]> = { teacher: [], baseline: [], distilled: [] };
  private readonly ema: Partial<Record<RunId, number>> = {};

  /** @param smoothing EMA factor in [0, 1): 0 keeps raw values, 0.9 is heavy smoothing. */
  constructor(private readonly smoothing = 0.8) {
    if (!(smoothing >= 0 && smoothing < 1))
      throw new RangeError(`Curves: smoothing must be in [0, 1), got ${smoothing}`);
  }

  /** Adds a batch's training loss at `x = epoch + (step + 1) / stepsPerEpoch`. Non-finite values are skipped. */
  addLoss(run: RunId, epoch: number, stepInEpoch: number, stepsPerEpoch: number, loss: number): void {
    if (!Number.isFinite(loss)) return;
    const prev = this.ema[run];
    const smoothed = prev === undefined ? loss : this.smoothing * prev + (1 - this.smoothing) * loss;
    this.ema[run] = smoothed;
    this.loss[run].push({ x: epoch + (stepInEpoch + 1) / Math.max(1, stepsPerEpoch), y: smoothed });
  }

  /** Adds the validation accuracy (a fraction) measured after `epochsDone` epochs. */
  addAccuracy(run: RunId, epochsDone: number, accuracy: number): void {
    if (!Number.isFinite(accuracy)) return;
    this.accuracy[run].push({ x: epochsDone, y: accuracy });
  }

  clear(run?: RunId): void {
    for (const r of run ? [run] : RUN_IDS) {
      this.loss[r].length = 0;
      this.accuracy[r].length = 0;
      delete this.ema[r];
    }
  }
}

/**
 * Keeps at most `maxPoints` points by even striding, always keeping the first and the last, so a long
 * run does not slow the chart down.
 */
export function decimate(points: readonly CurvePoint[], maxPoints: number): CurvePoint[] {
  if (maxPoints < 2) throw new RangeError(`decimate: maxPoints must be >= 2, got ${maxPoints}`);
  if (points.length <= maxPoints) return [...points];
  const out: CurvePoint[] = [];
  const step = (points.length - 1) / (maxPoints - 1);
  for (let i = 0; i < maxPoints; i++) out.push(points[Math.round(i * step)]!);
  return out;
}

/** The chart.js dataset of one run (a subset of chart.js's type, so this module stays DOM-free). */
export interface LineDataset {
  label: string;
  data: CurvePoint[];
  borderColor: string;
  backgroundColor: string;
  pointRadius: number;
  borderWidth: number;
  tension: number;
}

/**
 * The datasets for one chart: all three runs on the same axes, in a fixed order and colour. Accuracy
 * is shown in percent.
 */
export function chartDatasets(curves: Curves, metric: Metric, maxPoints = 400): LineDataset[] {
  return RUN_IDS.map((run) => {
    const raw = metric === 'loss' ? curves.loss[run] : curves.accuracy[run];
    const data = decimate(raw, maxPoints).map((p) => (metric === 'accuracy' ? { x: p.x, y: p.y * 100 } : p));
    return {
      label: RUN_STYLE[run].label,
      data,
      borderColor: RUN_STYLE[run].color,
      backgroundColor: RUN_STYLE[run].color,
      pointRadius: metric === 'accuracy' ? 3 : 0,
      borderWidth: 2,
      tension: 0.2,
    };
  });
}

/** The x-axis range shared by both charts: 0 to the longest planned run, in epochs. */
export function sharedXMax(plannedEpochs: Partial<Record<RunId, number>>): number {
  return Math.max(1, ...Object.values(plannedEpochs).filter((e): e is number => Number.isFinite(e)));
}

/** The curves as plain data (for IndexedDB), and back. */
export interface CurvesSnapshot {
  readonly loss: Record<RunId, CurvePoint[]>;
  readonly accuracy: Record<RunId, CurvePoint[]>;
}

export function snapshotCurves(curves: Curves): CurvesSnapshot {
  const copy = (r: Record<RunId, CurvePoint[]>) =>
    Object.fromEntries(RUN_IDS.map((id) => [id, r[id].map((p) => ({ x: p.x, y: p.y }))])) as Record<
      RunId,
      CurvePoint[]
    >;
  return { loss: copy(curves.loss), accuracy: copy(curves.accuracy) };
}

/** Replaces what `curves` holds with a snapshot (a run from the history). */
export function restoreCurves(curves: Curves, snap: CurvesSnapshot): void {
  curves.clear();
  for (const run of RUN_IDS) {
    curves.loss[run].push(...(snap.loss?.[run] ?? []));
    curves.accuracy[run].push(...(snap.accuracy?.[run] ?? []));
  }
}

/**
 * The text table behind a chart: one row per whole epoch, one column per run. Loss: the last smoothed
 * value at or before the epoch's end; accuracy: the validation accuracy (%) after that epoch.
 */
export function curveTable(curves: Curves, metric: Metric): { header: string[]; rows: string[][] } {
  const series = metric === 'loss' ? curves.loss : curves.accuracy;
  const runs = RUN_IDS.filter((r) => series[r].length > 0);
  const last = Math.max(0, ...runs.map((r) => Math.ceil(series[r].at(-1)!.x - 1e-9)));
  const rows: string[][] = [];
  for (let epoch = 1; epoch <= last; epoch++) {
    const cells = runs.map((r) => {
      const pts = series[r].filter((p) => p.x <= epoch + 1e-9);
      const p = pts.at(-1);
      if (!p || p.x <= epoch - 1 + 1e-9) return '–';
      return metric === 'loss' ? p.y.toFixed(4) : `${(p.y * 100).toFixed(2)}%`;
    });
    rows.push([String(epoch), ...cells]);
  }
  return { header: ['Epoch', ...runs.map((r) => RUN_STYLE[r].label)], rows };
}
