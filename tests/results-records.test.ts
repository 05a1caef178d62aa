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
// Accuracies may be shown as a percentage without a % sign where the table or sentence states the unit:
//   [89.04 ± 0.64](results/logit-methods-t1/run.json "pooled logit-methods-t1,logit-methods-t2,logit-methods-t3: teacher.test.percent")
//   [84.82](results/logit-methods-tune/run.json "stage.kd-t4-s1.validation.percent")
// A gain is the mean ± sample std of the paired differences in accuracy, in percentage points, of one row
// minus another (paired on the student seed and the teacher seed), pooled over the runs that hold both rows:
//   [-1.28 ± 0.64](results/logit-methods-t1/run.json "pooled logit-methods-t1,logit-methods-t2,logit-methods-t3: KD minus baseline.test.points")
// A value a stage logged per epoch (CTKD's learned temperature) is `history.<stage id>.<epoch>.<log key>`:
//   [15.62](results/logit-methods-t1/run.json "history.ctkd-s1.0.temperature")

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
      // stage.<stage id>.<validation|test>.<errors|accuracy|count|percent> (an id may hold dots:
      // "distilled-t-4-alpha-0.9-s1"); percent is 100 x accuracy, shown without a % sign
      const path = rest.slice(-2);
      const id = rest.slice(0, -2).join('.');
      const stage = (record.stages as { id: string }[]).find((s) => s.id === id);
      if (!stage) throw new Error(`${query}: no stage ${id}`);
      if (path[1] === 'percent') {
        const accuracy = pick(stage, [path[0]!, 'accuracy']);
        if (typeof accuracy !== 'number') throw new Error(`${query}: no ${path[0]} accuracy`);
        return 100 * accuracy;
      }
      return pick(stage, path) as number;
    }
    case 'history': {
      // history.<stage id>.<epoch>.<log key>: a value the stage logged at the end of that epoch
      const key = rest.at(-1)!;
      const epoch = Number(rest.at(-2));
      const id = rest.slice(0, -2).join('.');
      const stage = (record.stages as { id: string; history: { epoch: number; logs: Json }[] }[]).find(
        (s) => s.id === id,
      );
      if (!stage) throw new Error(`${query}: no stage ${id}`);
      const entries = stage.history.filter((h) => h.epoch === epoch);
      if (entries.length !== 1)
        throw new Error(`${query}: ${entries.length} history entries for epoch ${epoch}`);
      const value = entries[0]!.logs[key];
      if (typeof value !== 'number') throw new Error(`${query}: no number ${key} at epoch ${epoch}`);
      return value;
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

/**
 * `pooled a,b,c: <row>.<split>.<errors|accuracy|percent>`, `pooled a,b,c: paired <row>.<split>` (errors minus
 * the baseline's) or `pooled a,b,c: <row> minus <row>.<split>.points` (accuracy differences, in points).
 */
function resolvePooled(query: string): MeanStd {
  const m =
    /^pooled ([\w,*-]+): (paired )?(.+)\.(validation|test)(?:\.(errors|accuracy|percent|points))?$/.exec(
      query,
    );
  if (!m) throw new Error(`${query}: not a pooled citation`);
  const [, runs, paired, row, split, what] = m as unknown as [
    string,
    string,
    string | undefined,
    string,
    'validation' | 'test',
    'errors' | 'accuracy' | 'percent' | 'points' | undefined,
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
  const minus = / minus /.exec(row);
  if (minus || what === 'points') {
    // <row> minus <ref>.<split>.points: each stage of row paired with the one stage of ref that has its seed
    // and, where both have one, its teacher seed; mean ± std of the differences in accuracy, times 100
    if (!minus || what !== 'points' || paired)
      throw new Error(`${query}: a difference is "<row> minus <row>.<split>.points"`);
    const name = row.slice(0, minus.index);
    const refName = row.slice(minus.index + minus[0].length);
    const group = all.filter((s) => s.name === name);
    const refs = all.filter((s) => s.name === refName);
    if (group.length === 0 || refs.length === 0)
      throw new Error(`${query}: no stage of row ${group.length ? refName : name}`);
    const differences = group.map((d) => {
      const r = refs.filter(
        (s) =>
          s.seed === d.seed &&
          (s.teacherSeed === undefined || d.teacherSeed === undefined || s.teacherSeed === d.teacherSeed),
      );
      if (r.length !== 1) throw new Error(`${query}: ${r.length} stages of ${refName} pair with ${d.id}`);
      return d[split]!.accuracy - r[0]![split]!.accuracy;
    });
    expect(differences.length, `${query}: every stage of ${refName} is paired`).toBe(refs.length);
    const { mean, std, n } = meanStd(differences);
    return { mean: 100 * mean, std: 100 * std, n };
  }
  const group = all.filter((s) => s.name === row);
  if (group.length === 0) throw new Error(`${query}: no stage of row ${row}`);
  if (what === 'percent') {
    if (paired) throw new Error(`${query}: a paired difference is in errors`);
    const { mean, std, n } = meanStd(group.map((s) => s[split]!.accuracy));
    return { mean: 100 * mean, std: 100 * std, n };
  }
  if (!paired) return meanStd(group.map((s) => s[split]![what ?? 'errors']));
  const differences = group.map((d) => {
    const b = all.find((s) => s.role === 'baseline' && s.seed === d.seed);
    if (!b) throw new Error(`${query}: no baseline with seed ${d.seed}`);
    return d[split]!.errors - b[split]!.errors;
  });
  return meanStd(differences);
}

// Records of runs that were stopped from outside while running (the time ran out), so they still say
// `running` and have no metrics.csv; only their finished stages are cited, and the test resolves each figure.
const PARTIAL: Record<string, string> = {
  // the MLKD "no mask" and both CTKD candidates had not finished; wttm/nkd/mlkd candidates and the teacher had
  'results/logit-methods-tune-b/run.json': 'running',
};

const citations = [...text.matchAll(CITATION)].map((m) => ({ shown: m[1]!, file: m[2]!, query: m[3]! }));

describe('docs/RESULTS.md cites committed run records', () => {
  it('cites figures, each from a run.json with its metrics.csv beside it', () => {
    expect(citations.length).toBeGreaterThan(20);
    for (const file of new Set(citations.map((c) => c.file))) {
      expect(existsSync(join(docs, file)), file).toBe(true);
      const record = JSON.parse(readFileSync(join(docs, file), 'utf8')) as Json;
      expect(record.format, file).toBe('distilljs-run');
      if (PARTIAL[file]) {
        expect(record.status, file).toBe(PARTIAL[file]);
        continue;
      }
      expect(existsSync(join(docs, dirname(file), 'metrics.csv')), `${dirname(file)}/metrics.csv`).toBe(true);
      // mnist-t1..3 were stopped after their teacher stage; their students ran as runs of their own
      expect(['complete', 'interrupted'], file).toContain(record.status);
    }
  });

  it('every cited figure equals its record', () => {
    const records = new Map<string, Json>();
    for (const c of citations) {
      if (!records.has(c.file)) records.set(c.file, JSON.parse(readFileSync(join(docs, c.file), 'utf8')));
      if (c.query.startsWith('pooled ')) {
        // the link names one of the pooled runs
        const runs = /^pooled ([\w,*-]+):/.exec(c.query)?.[1] ?? '';
        const run = c.file.split('/')[1]!;
        const named = runs
          .split(',')
          .some((r) => (r.endsWith('*') ? run.startsWith(r.slice(0, -1)) : r === run));
        expect(named, `${c.file} "${c.query}" links one of its runs`).toBe(true);
      }
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
