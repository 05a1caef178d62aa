import { RUN_IDS, RUN_STYLE } from './chart-data.js';
import { testErrors } from './comparison.js';
import type { RunRecord } from './run-history.js';

/** The teacher a run distilled from: its file, or the zoo model it trained. */
export function teacherOf(r: RunRecord): string {
  const file = r.results.distilled?.teacherFile ?? r.results.teacher?.teacherFile;
  return file ? `teacher file ${file}` : r.settings.teacherModel;
}

/** One line describing a kept run, for the history list. */
export function runTitle(r: RunRecord, index: number): string {
  const when = r.startedAt.replace('T', ' ').slice(0, 16);
  const s = r.settings;
  const d = r.results.distilled;
  const b = r.results.baseline;
  const outcome =
    d && b
      ? `distilled ${testErrors(d.accuracy, d.testCount)} vs baseline ${testErrors(b.accuracy, b.testCount)} test errors`
      : r.status === 'stopped'
        ? 'stopped'
        : r.status === 'failed'
          ? 'failed'
          : r.status === 'running'
            ? 'unfinished'
            : 'no students';
  return `Run ${index + 1} · ${when} · ${r.backend} · ${teacherOf(r)} → ${s.studentModel}, T ${s.temperature}, α ${s.alpha} · ${outcome}`;
}

/** Two runs side by side: what differed in their settings and what each measured. */
export function compareRuns(a: RunRecord, b: RunRecord): { header: string[]; rows: string[][] } {
  const settings: [string, (r: RunRecord) => string][] = [
    ['Dataset', (r) => r.settings.dataset],
    ['Backend', (r) => r.backend],
    ['Teacher model', teacherOf],
    ['Student model', (r) => r.settings.studentModel],
    ['Temperature T', (r) => String(r.settings.temperature)],
    ['Alpha', (r) => String(r.settings.alpha)],
    ['Epochs (teacher / students)', (r) => `${r.settings.teacherEpochs} / ${r.settings.studentEpochs}`],
    [
      'Examples (teacher / students / test)',
      (r) => `${r.settings.trainSize} / ${r.settings.studentSize} / ${r.settings.testSize}`,
    ],
    ['Seed', (r) => String(r.settings.seed)],
  ];
  const rows = settings.map(([name, f]) => [name, f(a), f(b)]);
  for (const run of RUN_IDS) {
    const cell = (r: RunRecord) => {
      const x = r.results[run];
      if (!x) return '–';
      return `${testErrors(x.accuracy, x.testCount)} / ${x.testCount} (${(x.accuracy * 100).toFixed(2)}%)`;
    };
    rows.push([`${RUN_STYLE[run].label}: test errors`, cell(a), cell(b)]);
  }
  return { header: ['', 'First', 'Second'], rows };
}
