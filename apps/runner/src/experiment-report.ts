import type { AggregateRow, PairedDifference } from './experiment-runner.js';
import type { SoftTargetPicture } from './html-report.js';
import type { Io } from './io.js';
import { pairedLines, printRunOutcome, resultsTable, writeRunOutputs } from './run-outputs.js';
import type { StageResult, TestEvaluation } from './run-record.js';

/** What an experiment's results are reported from: a one-process `distill run`, or `distill merge`. */
export interface ExperimentReport {
  readonly command: 'run' | 'merge';
  readonly title: string;
  readonly runDir: string;
  readonly datasetName: string;
  /** {@link splitsLine} of the run's dataset. */
  readonly splits: string;
  readonly backend: string;
  readonly seeds: readonly number[];
  readonly rows: readonly AggregateRow[];
  readonly paired: readonly PairedDifference[];
  /** The run's looks at the test split (the table's caption counts them). */
  readonly testEvaluations: readonly TestEvaluation[];
  readonly stages: readonly StageResult[];
  readonly softTargets?: SoftTargetPicture | undefined;
  /** Added to the heading line and the report's subtitle: `merged from 6 units`. */
  readonly origin?: string;
}

/**
 * Writes an experiment's metrics.csv and report.html and prints its results: the table (mean ± std over
 * seeds, captioned with the test-split looks) and the paired differences, or one JSON line with `json`.
 * `distill run FILE` and `distill merge ROOT` both report through here, so they print the same.
 */
export function reportExperiment(io: Io, json: boolean, r: ExperimentReport): void {
  const table = resultsTable(r.rows, undefined, r.testEvaluations);
  const files = writeRunOutputs(r.runDir, {
    title: `distill ${r.command}: ${r.title}`,
    subtitle: [
      r.splits,
      `backend ${r.backend}; seeds ${r.seeds.join(', ')}`,
      ...(r.origin ? [r.origin] : []),
      new Date().toISOString(),
    ],
    table,
    stages: r.stages,
    softTargets: r.softTargets,
  });
  printRunOutcome(
    io,
    json,
    { runDir: r.runDir, report: files.report },
    { rows: r.rows, paired: r.paired, testEvaluations: r.testEvaluations.length },
    [
      `\n${r.title}: ${r.datasetName}, mean ± std over ${r.seeds.length} seed(s)${r.origin ? `, ${r.origin}` : ''}`,
      table.text,
      ...pairedLines(r.paired),
    ],
  );
}
