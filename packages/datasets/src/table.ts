import type { FeatureDataset, FeatureSplit } from '@distilljs/core';
import { InvalidFileError } from '@distilljs/core';
import { CsvError, parse } from 'csv-parse/sync';

/** Options of {@link parseTable}. */
export interface TableOptions {
  /**
   * The label column: its header name; with `header: false`, its 1-based column number (`'5'`); or
   * `'last'` (default `'last'` without a header; required with one).
   */
  readonly labelColumn?: string;
  /** Field delimiter (default `,`; `\t` for TSV). */
  readonly delimiter?: string;
  /** The first (non-skipped) line names the columns (default true). */
  readonly header?: boolean;
  /** Lines to skip before the header or data, e.g. 1 for sklearn's `rows,cols,names...` line (default 0). */
  readonly skipLines?: number;
  /** Class names in label order; default: the label values (numeric values sorted numerically). */
  readonly classNames?: readonly string[];
}

/** @internal One parsed record and where it ends. */
export interface Row {
  readonly record: string[];
  readonly info: { readonly lines: number };
}

/** @internal Throws the one-line error: `file: where: what`. */
export function fail(source: string, where: string, what: string): never {
  throw new InvalidFileError(`${source}: ${where}: ${what}`, { where: `${source}:${where}` });
}

/** @internal The table's records with their line numbers (csv-parse); errors name the file and the line. */
export function readRows(text: string, source: string, options: TableOptions): Row[] {
  try {
    return parse(text, {
      delimiter: options.delimiter ?? ',',
      from_line: (options.skipLines ?? 0) + 1,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      bom: true,
    }) as unknown as Row[];
  } catch (error) {
    const e = error as CsvError & { lines?: number };
    if (e instanceof CsvError) fail(source, `line ${e.lines ?? '?'}`, e.message);
    throw error;
  }
}

function labelIndex(
  columns: readonly string[],
  options: TableOptions,
  source: string,
  header: boolean,
): number {
  const want = options.labelColumn ?? (header ? undefined : 'last');
  if (want === undefined)
    fail(
      source,
      'header',
      `choose the label column by name (labelColumn / --label-column); columns are ${columns.join(', ')}`,
    );
  if (want === 'last') return columns.length - 1;
  const k = columns.indexOf(want as string);
  if (k < 0) {
    const forms = header ? `one of ${columns.join(', ')}` : `a column number 1..${columns.length} or 'last'`;
    fail(source, header ? 'header' : 'line 1', `no label column ${JSON.stringify(want)}; expected ${forms}`);
  }
  return k;
}

function classesOf(values: readonly string[], options: TableOptions): string[] {
  const unique = [...new Set(values)];
  if (options.classNames) return [...options.classNames];
  const numeric = unique.every((v) => v !== '' && Number.isFinite(Number(v)));
  return numeric ? unique.sort((a, b) => Number(a) - Number(b)) : unique.sort();
}

/**
 * Parses a CSV/TSV table (csv-parse) into a {@link FeatureDataset} whose `train` holds every row and whose
 * `test` is empty (hold a part out with `holdOut`, then standardise with `standardizeDataset`). Every
 * column but the label is a numeric feature. Errors name the file, the line and the column: a ragged
 * row, a non-numeric cell, a missing label column.
 */
export function parseTable(text: string, source: string, options: TableOptions = {}): FeatureDataset {
  const header = options.header ?? true;
  const rows = readRows(text, source, options);
  if (rows.length === 0) fail(source, 'line 1', 'the table is empty');
  const first = rows[0] as Row;
  const columns = header ? first.record : first.record.map((_, i) => String(i + 1));
  const data = header ? rows.slice(1) : rows;
  if (data.length === 0) fail(source, `line ${first.info.lines}`, 'the table has a header but no rows');
  const label = labelIndex(columns, options, source, header);
  const width = columns.length;
  const featureNames = columns.filter((_, j) => j !== label);
  const d = featureNames.length;
  const features = new Float32Array(data.length * d);
  const rawLabels: string[] = [];
  data.forEach(({ record, info }, i) => {
    if (record.length !== width)
      fail(
        source,
        `line ${info.lines}`,
        `has ${record.length} fields, expected ${width} like ${header ? 'the header' : 'the first row'}`,
      );
    let k = 0;
    for (let j = 0; j < width; j++) {
      const cell = record[j] as string;
      if (j === label) {
        rawLabels.push(cell);
        continue;
      }
      const v = cell === '' ? Number.NaN : Number(cell);
      if (!Number.isFinite(v))
        fail(
          source,
          `line ${info.lines}, column ${JSON.stringify(columns[j])}`,
          `${JSON.stringify(cell)} is not a number (every column but the label must be numeric)`,
        );
      features[i * d + k++] = v;
    }
  });
  const classNames = classesOf(rawLabels, options);
  const idOf = new Map(classNames.map((c, k) => [c, k]));
  const labels = new Int32Array(data.length);
  rawLabels.forEach((v, i) => {
    const id = idOf.get(v) ?? idOf.get(String(Number(v)));
    if (id === undefined)
      fail(
        source,
        `line ${(data[i] as Row).info.lines}, column ${JSON.stringify(columns[label])}`,
        `label ${JSON.stringify(v)} is not one of the classes ${classNames.join(', ')}`,
      );
    labels[i] = id;
  });
  const all: FeatureSplit = { features, labels, count: data.length };
  return {
    name: source.split(/[\\/]/).pop() ?? source,
    featureShape: [d],
    numClasses: classNames.length,
    classNames,
    featureNames,
    train: all,
    test: { features: new Float32Array(0), labels: new Int32Array(0), count: 0 },
  };
}
