import { resolve } from 'node:path';
import type { BackendRequest } from '@distilljs/core';
import { writeTeacherLogits } from '@distilljs/trainer/node';
import { UsageError } from '../exit-code.js';
import { type Io, println } from '../io.js';
import { isLogitsDir, loadAnyTeacher, teacherInputFromFlags } from '../teacher-loader.js';
import * as toolkit from '../toolkit.js';
import { datasetFromFlags } from './train.js';

/** `distill logits`: a teacher's logits on a dataset split, written as files (docs/teacher-logits.md). */
export async function logitsCommand(opts: Record<string, unknown>, io: Io): Promise<void> {
  const ref = opts.teacher as string;
  if (toolkit.MODEL_NAMES.includes(ref)) {
    throw new UsageError(
      `--teacher ${ref}: a zoo name is an untrained model; train it first (distill train --model ${ref}) and pass its run directory`,
    );
  }
  if (isLogitsDir(ref)) throw new UsageError(`--teacher ${ref}: this is already a teacher-logits directory`);
  if (opts.temperature && !opts.topK) {
    throw new UsageError(
      '--temperature applies with --top-k only: full logits give exact soft targets at every temperature',
    );
  }
  const selection = await toolkit.setupBackend((opts.backend as BackendRequest) ?? 'auto');
  const dataset = await toolkit.loadDataset(datasetFromFlags(opts) as toolkit.DatasetSpec);
  const { teacher, notes } = await loadAnyTeacher(ref, dataset, teacherInputFromFlags(opts));
  for (const n of [...notes, ...teacher.notes]) if (!opts.quiet) io.stderr.write(`teacher: ${n}\n`);
  const split = (opts.split as 'train' | 'test') ?? 'train';
  const data = toolkit.makeStream(dataset, {
    split,
    batchSize: (opts.batchSize as number | undefined) ?? 256,
    seed: 0,
    shuffle: false,
  });
  const shard = (opts.shard as { index: number; count: number } | undefined) ?? { index: 0, count: 1 };
  const dir = resolve(opts.out as string);
  const t0 = performance.now();
  const manifest = await writeTeacherLogits({
    teacher,
    data,
    dir,
    shard,
    ...(opts.topK ? { topK: opts.topK as number } : {}),
    ...(opts.temperature ? { topKTemperatures: opts.temperature as number[] } : {}),
    dtype: (opts.dtype as 'float32' | 'float16') ?? 'float32',
  });
  const seconds = (performance.now() - t0) / 1000;
  await teacher.dispose();
  const written = manifest.shards.reduce((n, s) => n + s.end - s.start, 0);
  const result = {
    dir,
    backend: selection.backend,
    dataset: manifest.dataset,
    shard: `${shard.index}/${shard.count}`,
    examples: written,
    count: manifest.count,
    complete: written === manifest.count,
    seconds,
  };
  if (opts.json) {
    println(io.stdout, JSON.stringify(result));
    return;
  }
  println(
    io.stdout,
    `${dir}: shard ${result.shard} of ${dataset.name}/${split} written in ${seconds.toFixed(2)} s (backend ${selection.backend}); ${written} of ${manifest.count} examples present${result.complete ? ', complete' : ''}`,
  );
}
