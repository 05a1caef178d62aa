import type { BackendRequest } from '@distilljs/core';
import { type BenchResult, type BenchTask, runBench } from '../bench.js';
import { UsageError } from '../exit-code.js';
import { type Io, println } from '../io.js';
import { renderTable } from '../results-table.js';

/** `distill bench`: training throughput per model (one JSON object per line with --json). */
export async function benchCommand(opts: Record<string, unknown>, io: Io): Promise<void> {
  const models =
    typeof opts.models === 'string'
      ? opts.models
          .split(',')
          .map((m) => m.trim())
          .filter(Boolean)
      : undefined;
  const tasks = typeof opts.tasks === 'string' ? opts.tasks.split(',').map((t) => t.trim()) : undefined;
  const valid = ['train', 'distill', 'distill-online'];
  const bad = tasks?.find((t) => !valid.includes(t));
  if (bad !== undefined)
    throw new UsageError(`--tasks: expected some of ${valid.join(', ')}, got ${JSON.stringify(bad)}`);
  const relaxedSimd = opts.relaxedSimd ?? 'enable';
  if (relaxedSimd !== 'enable' && relaxedSimd !== 'auto' && relaxedSimd !== 'off')
    throw new UsageError(`--relaxed-simd: expected enable, auto or off, got ${JSON.stringify(relaxedSimd)}`);
  const rows: BenchResult[] = [];
  for await (const line of runBench({
    backend: (opts.backend as BackendRequest) ?? 'auto',
    batchSize: opts.batch as number,
    ...(models ? { models } : {}),
    ...(opts.steps ? { steps: opts.steps as number } : {}),
    ...(opts.warmup ? { warmup: opts.warmup as number } : {}),
    ...(tasks ? { tasks: tasks as BenchTask[] } : {}),
    relaxedSimd,
  })) {
    rows.push(line);
    if (opts.json) println(io.stdout, JSON.stringify(line));
    else io.stderr.write(`${line.model} ${line.task}: ${line.samplesPerSec.toFixed(0)} samples/s\n`);
  }
  if (!opts.json) {
    println(
      io.stdout,
      renderTable(
        ['model', 'task', 'batch', 'samples/s', 'ms/step', 'engine'],
        rows.map((r) => [
          r.model,
          r.task,
          String(r.batchSize),
          r.samplesPerSec.toFixed(0),
          r.msPerStep.toFixed(1),
          r.engine,
        ]),
      ),
    );
    const first = rows[0];
    if (first !== undefined)
      println(
        io.stdout,
        `cpu: ${first.cpu}, ${first.cores} cores, ${first.cpuFlags.join(' ') || 'no flags read'}`,
      );
  }
}
