import type { BackendRequest } from '@distilljs/core';
import { type Io, println } from '../io.js';
import { renderTable } from '../results-table.js';

/** One line of `distill bench`, as ../shared/bench/torch_reference.py prints it. */
export interface BenchLine {
  readonly model: string;
  readonly task: string;
  readonly batchSize: number;
  readonly samplesPerSec: number;
  readonly msPerStep: number;
  readonly engine: string;
}

/** `distill bench`: training throughput per model (one JSON object per line with --json). */
export async function benchCommand(opts: Record<string, unknown>, io: Io): Promise<void> {
  const { runBench } = (await import('../bench.js')) as unknown as {
    runBench: (o: Record<string, unknown>) => AsyncIterable<BenchLine>;
  };
  const models =
    typeof opts.models === 'string'
      ? opts.models
          .split(',')
          .map((m) => m.trim())
          .filter(Boolean)
      : undefined;
  const rows: BenchLine[] = [];
  for await (const line of runBench({
    backend: (opts.backend as BackendRequest) ?? 'auto',
    batchSize: opts.batch as number,
    ...(models ? { models } : {}),
    ...(opts.steps ? { steps: opts.steps as number } : {}),
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
  }
}
