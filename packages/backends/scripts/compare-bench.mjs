#!/usr/bin/env node
// Joins runs of `distill bench --json` and ../shared/bench/torch_reference.py (JSON lines, several runs
// each, concatenated) and prints a Markdown table of medians and ratios.
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
// PyTorch's "distill" runs the teacher in the step: it is the reference for both of our distill tasks.
const torchKey = (k) => (k.endsWith('|distill-online') ? k.replace('distill-online', 'distill') : k);
console.log(
  '| model | task | backend | samples/s (median) | runs | PyTorch samples/s (median) | runs | ratio |',
);
console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const [k, rows] of ours) {
  const [model, task] = k.split('|');
  const ref = torch.get(torchKey(k)) ?? [];
  const a = median(rows.map((r) => r.samplesPerSec));
  const b = ref.length ? median(ref.map((r) => r.samplesPerSec)) : NaN;
  const runs = (rs) => rs.length;
  console.log(
    `| ${model} | ${task} | ${rows[0].engine} | ${a.toFixed(0)} | ${runs(rows)} | ${Number.isNaN(b) ? '-' : b.toFixed(0)} | ${runs(ref)} | ${Number.isNaN(b) ? '-' : `${(a / b).toFixed(2)}x`} |`,
  );
}
