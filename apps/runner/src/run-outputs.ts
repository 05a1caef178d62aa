import { join } from 'node:path';
import type { AggregateRow } from './experiment-runner.js';
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
import type { StageResult } from './run-record.js';
import { formatMeanStd, type MeanStd } from './stats.js';

/** The paper-style results table: one row per model, errors and accuracy as mean ± std over seeds. */
export function resultsTable(
  rows: readonly AggregateRow[],
  extra?: { head: string; cell: (r: AggregateRow) => string },
) {
  const multi = rows.some((r) => r.seeds.length > 1);
  const pct = (m: MeanStd): MeanStd => ({ mean: m.mean * 100, std: m.std * 100, n: m.n });
  const head = [
    'model',
    'architecture',
    'params',
    multi ? 'test errors (mean ± std)' : 'test errors',
    multi ? 'accuracy % (mean ± std)' : 'accuracy %',
    'train time',
    ...(multi ? ['seeds'] : []),
    ...(extra ? [extra.head] : []),
  ];
  const body = rows.map((r) => [
    r.name,
    r.model,
    formatCount(r.params),
    `${formatMeanStd(r.errors, multi ? 1 : 0)} / ${r.testCount}`,
    formatMeanStd(pct(r.accuracy), 2),
    formatDuration(r.seconds.mean),
    ...(multi ? [String(r.seeds.length)] : []),
    ...(extra ? [extra.cell(r)] : []),
  ]);
  return { head, rows: body, text: renderTable(head, body) };
}

/** Per-epoch metrics of every stage, for the CSV. */
export function metricsRows(stages: readonly StageResult[]): MetricsRow[] {
  return stages.flatMap((s) =>
    s.history.map((h) => ({ stage: s.name, seed: s.seed, epoch: h.epoch, values: h.logs })),
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
  readonly table: { readonly head: readonly string[]; readonly rows: readonly (readonly string[])[] };
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
    ...(out.notes ? { notes: out.notes } : {}),
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
