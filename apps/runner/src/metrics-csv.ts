/** One row of the metrics CSV: which stage and seed, which epoch, and the logged scalars. */
export interface MetricsRow {
  readonly stage: string;
  readonly seed: number;
  /** The teacher's seed, for a distilled student of a run with several teachers. */
  readonly teacherSeed?: number | undefined;
  readonly epoch: number;
  readonly values: Readonly<Record<string, number>>;
}

function cell(v: string | number | undefined): string {
  if (v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Renders per-epoch metrics as CSV with a header of `stage,seed,epoch` (and `teacher_seed` after `seed`
 * when any row has one) followed by the union of the logged keys (in first-seen order); a key a row
 * lacks is left empty.
 */
export function metricsToCsv(rows: readonly MetricsRow[]): string {
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r.values)) if (!keys.includes(k)) keys.push(k);
  const teachers = rows.some((r) => r.teacherSeed !== undefined);
  const lines = [['stage', 'seed', ...(teachers ? ['teacher_seed'] : []), 'epoch', ...keys].join(',')];
  for (const r of rows)
    lines.push(
      [
        cell(r.stage),
        cell(r.seed),
        ...(teachers ? [cell(r.teacherSeed)] : []),
        cell(r.epoch),
        ...keys.map((k) => cell(r.values[k])),
      ].join(','),
    );
  return `${lines.join('\n')}\n`;
}
