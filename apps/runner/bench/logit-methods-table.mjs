// The tables of docs/RESULTS.md, "Logit methods", from the committed run records:
//   node bench/logit-methods-table.mjs ../../docs/results/logit-methods-tune -- ../../docs/results/logit-methods-{t1,t2,t3} ../../docs/results/logit-methods-chosen-{t1,t2,t3}
// Before `--`: the validation-only tuning runs (one row per candidate: validation accuracy and errors).
// After `--`: the final runs (one per teacher seed): test accuracy mean ± std over seeds per method, the
// gain over the baseline and over KD (means of the per-seed paired differences, ± their std), and the
// validation accuracy. Accuracies in percent; std is the sample std (n - 1).
// With --cite, every figure is printed as the citation tests/results-records.test.ts checks, linking
// results/<run directory>/run.json (the form docs/RESULTS.md uses).
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const cite = process.argv.includes('--cite');
const args = process.argv.slice(2).filter((a) => a !== '--cite');
const link = (shown, dir, query) =>
  cite ? `[${shown}](results/${basename(dir)}/run.json "${query}")` : shown;
const pooledLink = (shown, dirs, query) =>
  link(shown, dirs[0], `pooled ${dirs.map((d) => basename(d)).join(',')}: ${query}`);
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
    for (const s of read(dir).stages.filter((x) => x.role !== 'teacher' && x.validation)) {
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
        `| ${s.name} | ${loss} | ${loss === 'ce' ? 'labels only' : `T ${temperature}, alpha ${alpha}`}${extra ? `, ${extra}` : ''} | ${link(pct(s.validation.accuracy), dir, `stage.${s.id}.validation.percent`)} | ${link(s.validation.errors, dir, `stage.${s.id}.validation.errors`)} / ${link(s.validation.count, dir, `stage.${s.id}.validation.count`)} |`,
      );
    }
    const teacher = read(dir).stages.find((x) => x.role === 'teacher');
    console.log(
      `| (teacher of ${dir.split('/').pop()}) | ce | | ${link(pct(teacher.validation.accuracy), dir, `stage.${teacher.id}.validation.percent`)} | ${link(teacher.validation.errors, dir, `stage.${teacher.id}.validation.errors`)} / ${link(teacher.validation.count, dir, `stage.${teacher.id}.validation.count`)} |`,
    );
  }
  console.log();
}

const stages = finalDirs.flatMap((d) => read(d).stages.map((s) => ({ ...s, dir: d })));
const dirsOf = (...rowNames) =>
  finalDirs.filter((d) => stages.some((s) => s.dir === d && rowNames.includes(s.name)));
const names = [...new Set(stages.map((s) => s.name))];
const bySeed = (name) =>
  new Map(stages.filter((s) => s.name === name).map((s) => [s.teacherSeed ?? s.seed, s]));
const baseline = bySeed('baseline');
const kd = bySeed('KD');
const paired = (rows, ref, name, refName) => {
  const d = [...rows]
    .filter(([seed]) => ref.has(seed))
    .map(([seed, s]) => s.test.accuracy - ref.get(seed).test.accuracy);
  return d.length
    ? pooledLink(
        `${d.reduce((a, b) => a + b, 0) >= 0 ? '+' : ''}${meanStd(d)}`,
        dirsOf(name, refName),
        `${name} minus ${refName}.test.points`,
      )
    : '';
};
console.log(
  '| model | seeds | test accuracy % (mean ± std) | gain over baseline (pts) | gain over KD (pts) | validation accuracy % |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const name of names) {
  const rows = bySeed(name);
  const list = [...rows.values()];
  console.log(
    `| ${name} | ${[...rows.keys()].join(', ')} | ${pooledLink(meanStd(list.map((s) => s.test.accuracy)), dirsOf(name), `${name}.test.percent`)} | ${name === 'teacher' || name === 'baseline' ? '' : paired(rows, baseline, name, 'baseline')} | ${['teacher', 'baseline', 'KD'].includes(name) ? '' : paired(rows, kd, name, 'KD')} | ${pooledLink(meanStd(list.map((s) => s.validation.accuracy)), dirsOf(name), `${name}.validation.percent`)} |`,
  );
}
const ctkd = stages.filter((s) => s.history.some((h) => h.logs.temperature !== undefined));
for (const s of ctkd) {
  console.log(
    `\nCTKD temperature, ${s.name} seed ${s.seed}: ${s.history.map((h) => link(h.logs.temperature.toFixed(2), s.dir, `history.${s.id}.${h.epoch}.temperature`)).join(', ')}`,
  );
}
