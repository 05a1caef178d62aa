import { join } from 'node:path';
import type { AggregateRow, PairedDifference } from './experiment-runner.js';
import {
  type HtmlReport,
  type ReportCurve,
  renderHtmlReport,
  type SoftTargetPicture,
} from './html-report.js';
import { type Io, println } from './io.js';
import { type MetricsRow, metricsToCsv } from './metrics-csv.js';
import { formatCount, formatDuration, renderTable } from './results-table.js';
import { writeFileAtomic } from './run-dir.js';
import type { StageResult, TestEvaluation } from './run-record.js';
import { formatMeanStd, type MeanStd } from './stats.js';
import { temperatureTrajectories } from './temperature-trajectory.js';
import type { RunDataset } from './toolkit.js';

/**
 * The paper-style results table: one row per model, errors as mean ± std over seeds on the validation
 * split (what choices use) and on the test split (the final models, each scored once), with a caption
 * that counts the run's looks at the test split.
 */
export function resultsTable(
  rows: readonly AggregateRow[],
  extra?: { head: string; cell: (r: AggregateRow) => string },
  testEvaluations: readonly TestEvaluation[] = [],
) {
  const multi = rows.some((r) => r.seeds.length > 1);
  const pct = (m: MeanStd): MeanStd => ({ mean: m.mean * 100, std: m.std * 100, n: m.n });
  const hasTest = rows.some((r) => r.test);
  const ms = multi ? ' (mean ± std)' : '';
  const head = [
    'model',
    'architecture',
    'params',
    `validation errors${ms}`,
    ...(hasTest ? [`test errors${ms}`, `test accuracy %${ms}`] : [`validation accuracy %${ms}`]),
    'train time',
    ...(multi ? ['seeds'] : []),
    ...(extra ? [extra.head] : []),
  ];
  const errors = (f: AggregateRow['test']) =>
    f ? `${formatMeanStd(f.errors, multi ? 1 : 0)} / ${f.count}` : 'not evaluated';
  const body = rows.map((r) => [
    r.name,
    r.model,
    formatCount(r.params),
    errors(r.validation),
    ...(hasTest
      ? [errors(r.test), r.test ? formatMeanStd(pct(r.test.accuracy), 2) : '']
      : [formatMeanStd(pct(r.validation.accuracy), 2)]),
    formatDuration(r.seconds.mean),
    ...(multi ? [String(r.seeds.length)] : []),
    ...(extra ? [extra.cell(r)] : []),
  ]);
  const caption = testLooksCaption(testEvaluations);
  return { head, rows: body, caption, text: `${renderTable(head, body)}\n${caption}` };
}

/** One line saying how often the run looked at the test split, and naming any model looked at twice. */
export function testLooksCaption(looks: readonly TestEvaluation[]): string {
  if (looks.length === 0)
    return 'Test split: not evaluated (validation only; choices are made on the validation split).';
  const counts = new Map<string, number>();
  for (const l of looks) counts.set(l.stage, (counts.get(l.stage) ?? 0) + 1);
  const repeated = [...counts].filter(([, n]) => n > 1);
  const base = `Test split: ${looks.length} evaluation${looks.length > 1 ? 's' : ''} in this run`;
  if (repeated.length === 0)
    return `${base}, each model once, at the end, with its final weights; per-epoch metrics and choices use the validation split.`;
  const which = repeated.map(([stage, n]) => `${stage} ${n} times`).join(', ');
  const why = looks
    .filter((l) => l.purpose)
    .map((l) => l.purpose)
    .join('; ');
  return `${base}; evaluated more than once: ${which}${why ? ` (${why})` : ''}.`;
}

/** The split sizes {@link splitsLine} names (a dataset, or what a run record keeps of one). */
export interface SplitSizes {
  readonly name: string;
  readonly train: { readonly count: number };
  readonly validation: { readonly count: number };
  readonly test: { readonly count: number };
  readonly validationSplit: { readonly seed: number };
}

/** `fashion-mnist: 54,000 train / 6,000 validation (seed 0, stratified) / 10,000 test` */
export function splitsLine(d: SplitSizes | RunDataset): string {
  return `${d.name}: ${formatCount(d.train.count)} train / ${formatCount(d.validation.count)} validation (carved from training, seed ${d.validationSplit.seed}, stratified) / ${formatCount(d.test.count)} test`;
}

/** One line per paired difference: distilled minus baseline errors, per seed and as mean ± std. */
export function pairedLines(paired: readonly PairedDifference[]): string[] {
  return paired.map(
    (p) =>
      `${p.distilled} minus ${p.baseline}, ${p.split} errors paired by student seed: ${formatMeanStd(p.difference, 1)} (${p.pairs
        .map(
          (x) =>
            `${x.teacherSeed !== undefined ? `t${x.teacherSeed}/` : ''}s${x.seed}: ${x.difference > 0 ? '+' : ''}${x.difference}`,
        )
        .join(', ')})`,
  );
}

/** Per-epoch figures under names that say their split: `train_loss`, `val_acc` (validation), `lr`, `seconds`. */
function splitNamed(logs: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(logs)) {
    const named = k.startsWith('val_') || ['lr', 'seconds', 'samplesPerSec'].includes(k) ? k : `train_${k}`;
    out[named] = v;
  }
  return out;
}

/** Per-epoch metrics of every stage, for the CSV: `train_*` on the training batches, `val_*` on the validation split. */
export function metricsRows(stages: readonly StageResult[]): MetricsRow[] {
  return stages.flatMap((s) =>
    s.history.map((h) => ({
      stage: s.name,
      seed: s.seed,
      ...(s.teacherSeed !== undefined ? { teacherSeed: s.teacherSeed } : {}),
      epoch: h.epoch,
      values: splitNamed(h.logs),
    })),
  );
}

/** Training curves for the report: one per stage name (its first seed), teacher, baseline and distilled together. */
export function reportCurves(stages: readonly StageResult[]): ReportCurve[] {
  const seen = new Set<string>();
  const curves: ReportCurve[] = [];
  for (const s of stages) {
    if (seen.has(s.name)) continue;
    seen.add(s.name);
    curves.push({
      label: s.name,
      role: s.role,
      points: s.history.map((h) => ({
        epoch: h.epoch,
        ...(h.logs.loss !== undefined ? { loss: h.logs.loss } : {}),
        ...(h.logs.acc !== undefined ? { acc: h.logs.acc } : {}),
        // val_* are the validation split's figures (never the test split's)
        ...(h.logs.val_acc !== undefined ? { valAcc: h.logs.val_acc } : {}),
        ...(h.logs.val_loss !== undefined ? { valLoss: h.logs.val_loss } : {}),
      })),
    });
  }
  return curves;
}

/** What {@link writeRunOutputs} writes besides the run record. */
export interface RunOutputs {
  readonly title: string;
  readonly subtitle: readonly string[];
  readonly table: {
    readonly head: readonly string[];
    readonly rows: readonly (readonly string[])[];
    /** A line under the table (the run's looks at the test split). */
    readonly caption?: string;
  };
  readonly stages: readonly StageResult[];
  readonly softTargets?: SoftTargetPicture | undefined;
  readonly notes?: readonly string[];
}

/** Writes `metrics.csv` and the self-contained `report.html` into the run directory; returns their paths. */
export function writeRunOutputs(runDir: string, out: RunOutputs): { csv: string; report: string } {
  const csv = join(runDir, 'metrics.csv');
  writeFileAtomic(csv, metricsToCsv(metricsRows(out.stages)));
  const report = join(runDir, 'report.html');
  const html: HtmlReport = {
    title: out.title,
    subtitle: out.subtitle,
    table: out.table,
    curves: reportCurves(out.stages),
    softTargets: out.softTargets,
    notes: [
      ...(out.table.caption ? [out.table.caption] : []),
      ...(out.notes ?? []),
      ...temperatureTrajectories(out.stages),
    ],
  };
  writeFileAtomic(report, renderHtmlReport(html));
  return { csv, report };
}

/** The soft targets as a small text table: class, p at each temperature. */
export function softTargetsTable(pic: SoftTargetPicture): string {
  const head = ['class', ...pic.temperatures.map((t) => `p (T = ${t.temperature})`)];
  const rows = pic.classNames.map((name, k) => [
    k === pic.label ? `${name} (true)` : name,
    ...pic.temperatures.map((t) => formatProb(t.probs[k]!)),
  ]);
  return renderTable(head, rows);
}

function formatProb(p: number): string {
  if (p >= 0.001) return p.toFixed(4);
  return p.toExponential(1);
}

/**
 * Prints what a finished run produced. With `json`, one JSON object on one line: `runDir` and `report`, then
 * `fields`. Otherwise the human-readable `lines`, then where the run directory and the report are.
 */
export function printRunOutcome(
  io: Io,
  json: boolean,
  files: { readonly runDir: string; readonly report: string },
  fields: Record<string, unknown>,
  lines: readonly string[],
): void {
  if (json) {
    println(io.stdout, JSON.stringify({ runDir: files.runDir, report: files.report, ...fields }));
    return;
  }
  for (const line of lines) println(io.stdout, line);
  println(io.stdout, `run directory: ${files.runDir}`);
  println(io.stdout, `report: ${files.report}`);
}
