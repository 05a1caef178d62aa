#!/usr/bin/env node
// Joins runs of `distill bench --json` and ../shared/bench/torch_reference.py (JSON lines, several runs
// each, concatenated) and prints a Markdown table of medians and ratios. Like with like: our `distill`
// (teacher logits cached) against PyTorch's `distill-cached`, our `distill-online` (teacher in the step)
// against PyTorch's `distill`. When both files hold the same number of runs of a row, the runs are taken as
// alternating rounds (ours then PyTorch's, round after round) and the median of the per-round ratios is
// printed too: on a shared machine it is steadier than the ratio of the medians.
// Usage: node scripts/compare-bench.mjs ours.jsonl torch.jsonl
import { readFileSync } from 'node:fs';

const [oursFile, torchFile] = process.argv.slice(2);
if (!oursFile || !torchFile) {
  console.error('usage: compare-bench.mjs ours.jsonl torch.jsonl');
  process.exit(2);
}
const read = (file) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const group = (rows) => {
  const g = new Map();
  for (const r of rows) {
    const k = `${r.model}|${r.task}`;
    if (!g.has(k)) g.set(k, []);
    g.get(k).push(r);
  }
  return g;
};
const ours = group(read(oursFile));
const torch = group(read(torchFile));
// PyTorch's "distill" runs the teacher in the step, its "distill-cached" does not.
const REFERENCE = { distill: 'distill-cached', 'distill-online': 'distill' };
const torchKey = (k) => {
  const [model, task] = k.split('|');
  return `${model}|${REFERENCE[task] ?? task}`;
};
console.log(
  '| model | task | PyTorch task | backend | samples/s (median) | runs | PyTorch samples/s (median) | runs | ratio of medians | median per-round ratio |',
);
console.log('| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const [k, rows] of ours) {
  const [model, task] = k.split('|');
  const ref = torch.get(torchKey(k)) ?? [];
  const a = median(rows.map((r) => r.samplesPerSec));
  const b = ref.length ? median(ref.map((r) => r.samplesPerSec)) : NaN;
  const runs = (rs) => rs.length;
  const paired = ref.length === rows.length && rows.length > 1;
  const perRound = paired ? rows.map((r, i) => r.samplesPerSec / ref[i].samplesPerSec) : [];
  const rounds = paired
    ? `${median(perRound).toFixed(2)}x (${perRound.map((x) => x.toFixed(2)).join(', ')})`
    : '-';
  console.log(
    `| ${model} | ${task} | ${torchKey(k).split('|')[1]} | ${rows[0].engine} | ${a.toFixed(0)} | ${runs(rows)} | ${Number.isNaN(b) ? '-' : b.toFixed(0)} | ${runs(ref)} | ${Number.isNaN(b) ? '-' : `${(a / b).toFixed(2)}x`} | ${rounds} |`,
  );
}
