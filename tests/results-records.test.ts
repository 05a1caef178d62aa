import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every figure docs/RESULTS.md publishes cites its run record: a Markdown link whose target is a committed
// run.json under docs/results/ and whose title says which figure, e.g.
//   [53.7 ± 2.5](results/mnist/run.json "rows.teacher.test.errors")
// This test resolves each citation in the record and checks that the link text is that figure, printed as
// RESULTS.md prints it (mean ± std with the decimals the text uses, or a single number). A figure pooled over
// several runs (one per teacher seed) lists them in its title:
//   [61.2 ± 3.1](results/mnist-t1/run.json "pooled mnist-t1,mnist-t2,mnist-t3: distilled.test.errors")
// is the mean ± sample std over every stage of that row in those runs (a stage id in several runs, such as a
// baseline every run trains with the same seed, counts once, and must have the same figures in each).

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const docs = join(root, 'docs');
const text = readFileSync(join(docs, 'RESULTS.md'), 'utf8');
const CITATION = /\[([^\]]+)\]\((results\/[^ )]+\/run\.json) "([^"]+)"\)/g;

interface MeanStd {
  mean: number;
  std: number;
  n: number;
}
type Json = Record<string, unknown>;

function byName<T extends { name: string }>(list: readonly T[], name: string, where: string): T {
  const found = list.find((x) => x.name === name);
  if (!found) throw new Error(`${where}: no entry named ${JSON.stringify(name)}`);
  return found;
}

/** The cited value: a number, or a mean ± std. */
function resolve(record: Json, query: string): number | MeanStd {
  const [kind, ...rest] = query.split('.');
  const summary = record.summary as Json;
  const pick = (obj: unknown, path: string[]): unknown =>
    path.reduce<unknown>((o, k) => (o === undefined || o === null ? undefined : (o as Json)[k]), obj);
  switch (kind) {
    case 'rows': {
      // rows.<row name>.<validation|test>.<errors|accuracy> (a row name may hold dots: "distilled (T=4, alpha=0.9)")
      const path = rest.slice(-2);
      const name = rest.slice(0, -2).join('.');
      const row = byName(summary.rows as { name: string }[], name, query);
      return pick(row, path) as MeanStd;
    }
    case 'stage': {
      // stage.<stage id>.<validation|test>.<errors|accuracy|count> (an id may hold dots: "distilled-t-4-alpha-0.9-s1")
      const path = rest.slice(-2);
      const id = rest.slice(0, -2).join('.');
      const stage = (record.stages as { id: string }[]).find((s) => s.id === id);
      if (!stage) throw new Error(`${query}: no stage ${id}`);
      return pick(stage, path) as number;
    }
    case 'paired': {
      // paired.<distilled row>.<split>: mean ± std of distilled minus baseline errors
      const [name, split] = rest;
      const p = (summary.paired as { distilled: string; split: string; difference: MeanStd }[]).find(
        (x) => x.distilled === name && x.split === split,
      );
      if (!p) throw new Error(`${query}: no paired difference`);
      return p.difference;
    }
    case 'summary':
      // summary.<path>: any number in the command's summary (the bias search, counts)
      return pick(summary, rest) as number;
    case 'testEvaluations':
      return (record.testEvaluations as unknown[]).length;
    case 'validationSplit':
      return pick(record.validationSplit, rest) as number;
    default:
      throw new Error(`${query}: unknown citation kind ${kind}`);
  }
}

function format(value: number | MeanStd, shown: string, query: string): string {
  const decimals = (s: string) => (s.includes('.') ? s.split('.')[1]!.length : 0);
  const percent = /accuracy/.test(query) && shown.includes('%');
  const scale = percent ? 100 : 1;
  const suffix = percent ? '%' : '';
  const num = (v: number, d: number) => {
    let s = (v * scale).toFixed(d);
    if (/^-0(\.0+)?$/.test(s)) s = s.slice(1);
    return shown.startsWith('+') && !s.startsWith('-') ? `+${s}` : s;
  };
  if (typeof value === 'number') {
    const d = decimals(shown.replace(/[%]/g, ''));
    return `${num(value, d)}${suffix}`;
  }
  if (!shown.includes('±')) return `${num(value.mean, decimals(shown.replace(/[%]/g, '')))}${suffix}`;
  const [m, s] = shown
    .replace(/[%]/g, '')
    .split('±')
    .map((x) => x.trim());
  return `${num(value.mean, decimals(m!))} ± ${(value.std * scale).toFixed(decimals(s!))}${suffix}`;
}

interface Stage {
  id: string;
  name: string;
  role: string;
  seed: number;
  teacherSeed?: number;
  validation?: { errors: number; accuracy: number };
  test?: { errors: number; accuracy: number };
}

function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/** `pooled a,b,c: <row>.<split>.<errors|accuracy>` or `pooled a,b,c: paired <row>.<split>`. */
function resolvePooled(query: string): MeanStd {
  const m = /^pooled ([\w,*-]+): (paired )?(.+)\.(validation|test)(?:\.(errors|accuracy))?$/.exec(query);
  if (!m) throw new Error(`${query}: not a pooled citation`);
  const [, runs, paired, row, split, what] = m as unknown as [
    string,
    string,
    string | undefined,
    string,
    'validation' | 'test',
    'errors' | 'accuracy',
  ];
  const stages = new Map<string, Stage>();
  // `mnist-*`: every run directory under docs/results whose name starts with `mnist-`
  const names = runs.endsWith('*')
    ? readdirSync(join(docs, 'results')).filter((d) => d.startsWith(runs.slice(0, -1)))
    : runs.split(',');
  expect(names.length, query).toBeGreaterThan(0);
  for (const run of names) {
    const record = JSON.parse(readFileSync(join(docs, 'results', run, 'run.json'), 'utf8')) as {
      stages: Stage[];
      status: string;
    };
    // a run stopped after its teacher stage (its students ran as runs of their own) counts for that stage
    expect(['complete', 'interrupted'], run).toContain(record.status);
    for (const s of record.stages) {
      // a baseline trained with the same seed in several runs counts once (and must agree); distilled
      // students of different runs (different teachers) are different models even with the same id
      const key = s.role === 'baseline' ? s.id : `${run}/${s.id}`;
      const seen = stages.get(key);
      if (seen) expect(s[split], `${run} ${s.id} equals its twin in another run`).toEqual(seen[split]);
      else stages.set(key, s);
    }
  }
  const all = [...stages.values()];
  const group = all.filter((s) => s.name === row);
  if (group.length === 0) throw new Error(`${query}: no stage of row ${row}`);
  if (!paired) return meanStd(group.map((s) => s[split]![what ?? 'errors']));
  const differences = group.map((d) => {
    const b = all.find((s) => s.role === 'baseline' && s.seed === d.seed);
    if (!b) throw new Error(`${query}: no baseline with seed ${d.seed}`);
    return d[split]!.errors - b[split]!.errors;
  });
  return meanStd(differences);
}

const citations = [...text.matchAll(CITATION)].map((m) => ({ shown: m[1]!, file: m[2]!, query: m[3]! }));

describe('docs/RESULTS.md cites committed run records', () => {
  it('cites figures, each from a run.json with its metrics.csv beside it', () => {
    expect(citations.length).toBeGreaterThan(20);
    for (const file of new Set(citations.map((c) => c.file))) {
      expect(existsSync(join(docs, file)), file).toBe(true);
      expect(existsSync(join(docs, dirname(file), 'metrics.csv')), `${dirname(file)}/metrics.csv`).toBe(true);
      const record = JSON.parse(readFileSync(join(docs, file), 'utf8')) as Json;
      expect(record.format, file).toBe('distilljs-run');
      // mnist-t1..3 were stopped after their teacher stage; their students ran as runs of their own
      expect(['complete', 'interrupted'], file).toContain(record.status);
    }
  });

  it('every cited figure equals its record', () => {
    const records = new Map<string, Json>();
    for (const c of citations) {
      if (!records.has(c.file)) records.set(c.file, JSON.parse(readFileSync(join(docs, c.file), 'utf8')));
      const value = c.query.startsWith('pooled ')
        ? resolvePooled(c.query)
        : resolve(records.get(c.file)!, c.query);
      expect(value, `${c.file} "${c.query}"`).toBeDefined();
      expect(c.shown.replace(/,/g, ''), `${c.file} "${c.query}"`).toBe(
        format(value, c.shown.replace(/,/g, ''), c.query),
      );
    }
  });
});
