import { RUN_STYLE, type RunId } from './chart-data.js';

/** What one finished (or stopped) run measured: the test split, once, on its final model. */
export interface RunResult {
  readonly run: RunId;
  /** The dataset it was trained and scored on. */
  readonly dataset: string;
  /** The teacher: its own identity for a teacher run, the one it learned from for a distilled student. */
  readonly teacher?: string | undefined;
  /** The file the teacher was loaded from (`mnist-bn-cnn.onnx`), when it was not trained on the page. */
  readonly teacherFile?: string | undefined;
  /** Accuracy of the final model on the validation split (what the curves show). */
  readonly validationAccuracy?: number | undefined;
  readonly model: string;
  readonly params: number;
  /** Test accuracy as a fraction. */
  readonly accuracy: number;
  readonly testLoss: number;
  readonly testCount: number;
  readonly epochs: number;
  readonly seconds: number;
  /** True when the run was stopped before its last epoch. */
  readonly stopped: boolean;
}

/** One row of the comparison table, as text. */
export interface ComparisonRow {
  readonly run: RunId;
  readonly name: string;
  readonly model: string;
  readonly params: string;
  readonly testErrors: string;
  readonly accuracy: string;
  readonly testLoss: string;
  readonly epochs: string;
  readonly time: string;
  /** Test errors relative to the baseline student (teacher and distilled), e.g. `-12` (fewer), `+3`, `±0`; empty for the baseline itself. */
  readonly vsBaseline: string;
}

/** Number of misclassified test examples implied by an accuracy over `count` examples. */
export function testErrors(accuracy: number, count: number): number {
  return Math.round((1 - accuracy) * count);
}

/** `1234567` -> `1,234,567`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/**
 * The results that may share one table: the same dataset and the same test examples as the newest
 * student (distilled, else baseline, else the teacher), and only the teacher that distilled student learned
 * from. Whatever differs is left out rather than set beside numbers it cannot be compared with.
 */
export function comparableResults(results: readonly RunResult[]): RunResult[] {
  const anchor =
    results.find((r) => r.run === 'distilled') ??
    results.find((r) => r.run === 'baseline') ??
    results.find((r) => r.run === 'teacher');
  if (!anchor) return [];
  return results.filter(
    (r) =>
      r.dataset === anchor.dataset &&
      r.testCount === anchor.testCount &&
      (r.run !== 'teacher' || anchor.run !== 'distilled' || r.teacher === anchor.teacher),
  );
}

/** The comparison table: teacher, baseline, distilled (whichever exist and compare), in that order. */
export function comparisonRows(all: readonly RunResult[]): ComparisonRow[] {
  const results = comparableResults(all);
  const order: RunId[] = ['teacher', 'baseline', 'distilled'];
  const baseline = results.find((r) => r.run === 'baseline');
  return order
    .map((id) => results.find((r) => r.run === id))
    .filter((r): r is RunResult => r !== undefined)
    .map((r) => {
      const errors = testErrors(r.accuracy, r.testCount);
      let vs = '';
      if (baseline && r.run !== 'baseline') {
        const d = errors - testErrors(baseline.accuracy, baseline.testCount);
        vs = d === 0 ? '±0' : d > 0 ? `+${d}` : `${d}`;
      }
      return {
        run: r.run,
        name: RUN_STYLE[r.run].label + (r.stopped ? ' (stopped)' : ''),
        model: r.model,
        params: formatCount(r.params),
        testErrors: `${formatCount(errors)} / ${formatCount(r.testCount)}`,
        accuracy: `${(r.accuracy * 100).toFixed(2)}%`,
        testLoss: Number.isFinite(r.testLoss) ? r.testLoss.toFixed(4) : 'n/a',
        epochs: String(r.epochs),
        time: `${r.seconds.toFixed(1)} s`,
        vsBaseline: vs,
      };
    });
}

/**
 * One sentence on what distillation did: the share of the teacher-baseline gap the distilled student
 * closed, or undefined when there is nothing to compare.
 */
export function gapSummary(all: readonly RunResult[]): string | undefined {
  const results = comparableResults(all);
  const get = (id: RunId) => results.find((r) => r.run === id);
  const t = get('teacher');
  const b = get('baseline');
  const d = get('distilled');
  if (!t || !b || !d) return undefined;
  const eb = testErrors(b.accuracy, b.testCount);
  const ed = testErrors(d.accuracy, d.testCount);
  const et = testErrors(t.accuracy, t.testCount);
  const diff = eb - ed;
  const fewer =
    diff === 0
      ? 'as many test errors as'
      : diff > 0
        ? `${diff} fewer test errors than`
        : `${-diff} more test errors than`;
  const gap = eb - et;
  const closed =
    gap > 0 && diff > 0
      ? ` It closed ${Math.round((100 * diff) / gap)}% of the gap between baseline and teacher.`
      : '';
  return `The distilled student made ${fewer} the baseline student (${ed} vs ${eb}; teacher ${et}).${closed}`;
}

/** Which teacher file the table's runs used, as a sentence; undefined when the teacher was trained here. */
export function teacherFileSentence(all: readonly RunResult[]): string | undefined {
  const results = comparableResults(all);
  const distilled = results.find((r) => r.run === 'distilled');
  const file = distilled ? distilled.teacherFile : results.find((r) => r.run === 'teacher')?.teacherFile;
  if (!file) return undefined;
  return distilled
    ? `The distilled student learned from the teacher file ${file} (loaded, not trained here).`
    : `The teacher is the file ${file} (loaded, not trained here).`;
}
