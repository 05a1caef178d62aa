// The tables of docs/RESULTS.md, "Logit methods", from the committed run records:
//   node bench/logit-methods-table.mjs ../../docs/results/logit-methods-tune-{a,b} -- ../../docs/results/logit-methods-t{1,2,3}
// Before `--`: the validation-only tuning runs (one row per candidate: validation accuracy and errors).
// After `--`: the final runs (one per teacher seed): test accuracy mean ± std over seeds per method, the
// gain over the baseline and over KD (means of the per-seed paired differences, ± their std), and the
// validation accuracy. Accuracies in percent; std is the sample std (n - 1).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const cut = args.indexOf('--');
const tuneDirs = cut < 0 ? [] : args.slice(0, cut);
const finalDirs = cut < 0 ? args : args.slice(cut + 1);
const read = (dir) => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
const pct = (v) => (100 * v).toFixed(2);
const meanStd = (v) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const s = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1)) : 0;
  return `${(100 * m).toFixed(2)} ± ${(100 * s).toFixed(2)}`;
};

if (tuneDirs.length) {
  console.log(
    '| candidate (validation only, seed 1) | loss | settings | validation accuracy % | validation errors |',
  );
  console.log('| --- | --- | --- | --- | --- |');
  for (const dir of tuneDirs) {
    for (const s of read(dir).stages.filter((x) => x.role !== 'teacher')) {
      const {
        loss,
        temperature,
        alpha,
        epochs: _e,
        batchSize: _b,
        optimizer: _o,
        lr: _l,
        ...rest
      } = s.settings;
      const extra = Object.entries(rest)
        .map(([k, v]) => `${k} ${JSON.stringify(v)}`)
        .join(', ');
      console.log(
        `| ${s.name} | ${loss} | T ${temperature}, alpha ${alpha}${extra ? `, ${extra}` : ''} | ${pct(s.validation.accuracy)} | ${s.validation.errors} / ${s.validation.count} |`,
      );
    }
    const teacher = read(dir).stages.find((x) => x.role === 'teacher');
    console.log(
      `| (teacher of ${dir.split('/').pop()}) | ce | | ${pct(teacher.validation.accuracy)} | ${teacher.validation.errors} / ${teacher.validation.count} |`,
    );
  }
  console.log();
}

const stages = finalDirs.flatMap((d) => read(d).stages);
const names = [...new Set(stages.map((s) => s.name))];
const bySeed = (name) =>
  new Map(stages.filter((s) => s.name === name).map((s) => [s.teacherSeed ?? s.seed, s]));
const baseline = bySeed('baseline');
const kd = bySeed('KD');
const paired = (rows, ref) => {
  const d = [...rows]
    .filter(([seed]) => ref.has(seed))
    .map(([seed, s]) => s.test.accuracy - ref.get(seed).test.accuracy);
  return d.length ? `${d.reduce((a, b) => a + b, 0) >= 0 ? '+' : ''}${meanStd(d)}` : '';
};
console.log(
  '| model | seeds | test accuracy % (mean ± std) | gain over baseline (pts) | gain over KD (pts) | validation accuracy % |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const name of names) {
  const rows = bySeed(name);
  const list = [...rows.values()];
  console.log(
    `| ${name} | ${[...rows.keys()].join(', ')} | ${meanStd(list.map((s) => s.test.accuracy))} | ${name === 'teacher' || name === 'baseline' ? '' : paired(rows, baseline)} | ${['teacher', 'baseline', 'KD'].includes(name) ? '' : paired(rows, kd)} | ${meanStd(list.map((s) => s.validation.accuracy))} |`,
  );
}
const ctkd = stages.filter((s) => s.history.some((h) => h.logs.temperature !== undefined));
for (const s of ctkd) {
  console.log(
    `\nCTKD temperature, ${s.name} seed ${s.seed}: ${s.history.map((h) => h.logs.temperature.toFixed(2)).join(', ')}`,
  );
}
