import { fail, readRows } from './table.js';

/** What a model trained on a table expects of each new row. */
export interface FeatureRowsOptions {
  /** How many numeric features a row holds. */
  readonly width: number;
  /**
   * The training table's feature columns, in the model's order (absent when it had no header). With them,
   * a file whose first line names its columns is read by name, in any order, other columns (such as the
   * label) ignored.
   */
  readonly featureNames?: readonly string[];
  /** Field delimiter (default `,`; `\t` for TSV). */
  readonly delimiter?: string;
}

/** Rows read for prediction: `count * width` features, row `i` from line `lines[i]` of the file. */
export interface FeatureRows {
  readonly features: Float32Array;
  readonly count: number;
  readonly lines: readonly number[];
}

const isNumber = (cell: string) => cell !== '' && Number.isFinite(Number(cell));

/** Where each feature lives in a record: by header name, else positionally. */
function columnsOf(
  header: readonly string[] | undefined,
  options: FeatureRowsOptions,
  source: string,
): number[] {
  const { width, featureNames } = options;
  if (!header) return Array.from({ length: width }, (_, j) => j);
  if (!featureNames) {
    fail(
      source,
      'line 1',
      `the model was trained on a table without a header, so give rows of ${width} numbers and no header line`,
    );
  }
  const missing = featureNames.filter((name) => !header.includes(name));
  if (missing.length > 0) {
    fail(
      source,
      'header',
      `no column ${missing.map((m) => JSON.stringify(m)).join(', ')}; the model's features are ${featureNames.join(', ')}`,
    );
  }
  return featureNames.map((name) => header.indexOf(name));
}

/**
 * Parses a CSV/TSV of rows to predict on (csv-parse): every row gives the model's `width` numeric features,
 * positionally, or, when the first line is a header and the model's `featureNames` are known, by column name
 * (extra columns, such as the label, are ignored). Errors name the file, the line and the column.
 */
export function parseFeatureRows(text: string, source: string, options: FeatureRowsOptions): FeatureRows {
  const rows = readRows(text, source, options);
  if (rows.length === 0) fail(source, 'line 1', 'the file holds no rows');
  const first = rows[0]?.record ?? [];
  const header = first.some((cell) => !isNumber(cell)) && options.featureNames ? first : undefined;
  const columns = columnsOf(header, options, source);
  const data = header ? rows.slice(1) : rows;
  if (data.length === 0) fail(source, 'line 2', 'the file has a header but no rows');
  const expected = header ? header.length : options.width;
  const features = new Float32Array(data.length * options.width);
  data.forEach(({ record, info }, i) => {
    if (record.length !== expected) {
      const what = header
        ? `has ${record.length} fields, expected ${expected} like the header`
        : `has ${record.length} fields, expected ${expected} (the model's features, without a label column)`;
      fail(source, `line ${info.lines}`, what);
    }
    columns.forEach((j, k) => {
      const cell = record[j] as string;
      if (!isNumber(cell)) {
        const column = header ? JSON.stringify(header[j]) : String(j + 1);
        fail(source, `line ${info.lines}, column ${column}`, `${JSON.stringify(cell)} is not a number`);
      }
      features[i * options.width + k] = Number(cell);
    });
  });
  return { features, count: data.length, lines: data.map((r) => r.info.lines) };
}
