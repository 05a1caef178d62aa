import type { SelectedBackend } from '@distilljs/backends';
import type { BackendRequest, ImageDataset, Logs } from '@distilljs/core';
import { isBackendRequest, isTeacher } from '@distilljs/core';
import { createBatchStream } from '@distilljs/datasets';
import { decodeImageBlob } from '@distilljs/datasets/browser';
import { loadModel, MODEL_NAMES, saveModel } from '@distilljs/models';
import { evaluate, TrainingController } from '@distilljs/trainer';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { type DataManifest, loadManifest, loadPackedDataset } from './app-data.js';
import { backendSentence, useBackend } from './backend.js';
import { renderBars } from './bars-view.js';
import {
  Curves,
  curveTable,
  RUN_IDS,
  RUN_STYLE,
  type RunId,
  restoreCurves,
  sharedXMax,
  snapshotCurves,
} from './chart-data.js';
import { LiveCharts } from './charts.js';
import {
  comparisonRows,
  formatCount,
  gapSummary,
  type RunResult,
  teacherFileSentence,
  testErrors,
} from './comparison.js';
import { byId, el } from './dom.js';
import { drawingToMnist, rgbaToInk } from './draw-to-mnist.js';
import { hasFieldError, setFieldError } from './field-errors.js';
import { readFormSettings, storeFormSettings } from './form-memory.js';
import { availableChoices, DEFAULT_STUDENT, DEFAULT_TEACHER } from './model-choices.js';
import { checkModelFiles } from './model-files.js';
import { forgetModels, forgetRuns, readMeta, restoreModels, storeMeta, storeModel } from './model-store.js';
import { type FolderDataset, folderDataset, pickedFiles } from './own-folder.js';
import { type ExportedPreprocessing, exportedPreprocessing, modelInput, topClasses } from './predictor.js';
import { compareRuns, runTitle } from './run-compare.js';
import { deleteRun, listRuns, newRunId, putRun, type RunRecord } from './run-history.js';
import {
  fieldLabel,
  parseNumber,
  parseRunSettings,
  parseTemperature,
  type RawRunSettings,
  type RunSettings,
} from './run-settings.js';
import { runSession } from './session.js';
import { similarClassPairs, topSimilarClasses } from './similar-classes.js';
import { barValues, temperatureSoftmax } from './soft-target-bars.js';
import { ChooseOutputError, loadTeacherFile, type TeacherFile } from './teacher-file.js';
import { parseNormalizeField, teacherFileFacts } from './teacher-files.js';
import { parseUrlPreset } from './url-params.js';

// ---------------------------------------------------------------- state

interface DigitSource {
  readonly kind: 'test' | 'drawn';
  readonly pixels: Uint8Array;
  readonly label: number | undefined;
  readonly index: number | undefined;
}

const state = {
  manifest: undefined as DataManifest | undefined,
  datasets: new Map<string, Promise<ImageDataset>>(),
  /** Folders of the user's own images chosen on the page (kept for this visit only). */
  folders: [] as FolderDataset[],
  data: undefined as ImageDataset | undefined,
  backend: undefined as SelectedBackend | undefined,
  models: {} as Partial<Record<RunId, LayersModel>>,
  /** A teacher loaded from files (ONNX, graph or Layers model), when it is the current teacher. */
  fileTeacher: undefined as TeacherFile | undefined,
  teacherName: '',
  /** Which teacher the current teacher model is (its results and the distilled student's carry it). */
  teacherId: '',
  results: {} as Partial<Record<RunId, RunResult>>,
  running: false,
  controller: undefined as TrainingController | undefined,
  digit: undefined as DigitSource | undefined,
  digitLogits: undefined as number[] | undefined,
  testLogits: undefined as { logits: Float32Array; labels: Uint8Array } | undefined,
  /** The history record whose curves the charts show. */
  shownRun: '',
  /** The user's choice for "Keep the current teacher" (kept while the box is disabled during a run). */
  reuseWanted: false,
  /** The temperature the last run distilled at (the slider starts there). */
  runT: undefined as number | undefined,
};

const curves = new Curves(0.8);
const charts = new LiveCharts(
  byId<HTMLCanvasElement>('loss-chart'),
  byId<HTMLCanvasElement>('acc-chart'),
  curves,
);
const form = byId<HTMLFormElement>('run-form');

// ---------------------------------------------------------------- messages

function showMessage(text: string, kind: 'error' | 'info' = 'error', about = ''): void {
  const box = byId('message');
  box.textContent = text;
  box.dataset.about = about;
  box.className = kind === 'error' ? 'message' : 'message info';
  box.hidden = false;
}

function clearMessage(): void {
  byId('message').hidden = true;
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

window.addEventListener('error', (e) =>
  showMessage(`Something went wrong: ${errorText(e.error ?? e.message)}`),
);
window.addEventListener('unhandledrejection', (e) =>
  showMessage(`Something went wrong: ${errorText(e.reason)}`),
);

// ---------------------------------------------------------------- backend

/**
 * Backend switches run one after another: two selections in flight at once (the start-up `auto` and a
 * click on the selector) would race in tf.setBackend and leave kernels of one backend running on another.
 */
let backendChain: Promise<void> = Promise.resolve();

function chooseBackend(request: BackendRequest): Promise<void> {
  backendChain = backendChain.then(() => switchBackend(request));
  return backendChain;
}

async function switchBackend(request: BackendRequest): Promise<void> {
  const status = byId('backend-status');
  const previous = state.backend;
  status.textContent = 'starting…';
  status.dataset.backend = '';
  try {
    const sel = await useBackend(request);
    state.backend = sel;
    status.textContent = sel.backend;
    status.dataset.backend = sel.backend;
    byId('backend-reason').textContent = backendSentence(sel);
    // A banner about an earlier backend that failed no longer says what runs.
    if (byId('message').dataset.about === 'backend') clearMessage();
  } catch (err) {
    // tfjs keeps running the backend it ran before, if any: the pill says which.
    const still = previous !== undefined && tf.getBackend() === previous.tfjsName ? previous : undefined;
    state.backend = still;
    status.textContent = still ? still.backend : 'none';
    status.dataset.backend = still ? still.backend : '';
    byId('backend-reason').textContent = still ? backendSentence(still) : '';
    if (still) byId<HTMLSelectElement>('backend').value = still.requested;
    const stay = still ? ` The page stays on ${still.backend}.` : ' Pick another backend.';
    showMessage(`Could not start the ${request} backend: ${errorText(err)}${stay}`, 'error', 'backend');
  }
}

byId<HTMLSelectElement>('backend').addEventListener('change', (e) => {
  const v = (e.target as HTMLSelectElement).value;
  if (isBackendRequest(v)) void chooseBackend(v);
});

// ---------------------------------------------------------------- data

function getDataset(id: string): Promise<ImageDataset> {
  let p = state.datasets.get(id);
  if (!p) {
    const entry = state.manifest?.datasets.find((d) => d.id === id);
    if (!entry) return Promise.reject(new Error(`No dataset '${id}' in the data manifest.`));
    p = loadPackedDataset(entry);
    state.datasets.set(id, p);
    p.catch(() => state.datasets.delete(id));
  }
  return p;
}

/** Drops one run's model, result, curve and panel (what belonged to another dataset or teacher). */
function disposeRun(run: RunId): void {
  if (run === 'teacher') dropFileTeacher();
  const model = state.models[run];
  if (model && !Object.entries(state.models).some(([r, m]) => r !== run && m === model)) model.dispose();
  delete state.models[run];
  delete state.results[run];
  curves.clear(run);
  setPanel(run, { model: '–', params: '–', progress: 'waiting', loss: '–', acc: '–' });
  setProgress(run, 0);
  setPanelState(run, 'idle');
}

/** A new dataset: nothing trained or loaded for the old one is kept (teacher, students, results). */
function resetForDataset(): void {
  for (const run of RUN_IDS) disposeRun(run);
  state.teacherName = '';
  state.teacherId = '';
  state.testLogits = undefined;
  state.digitLogits = undefined;
  charts.schedule();
  renderComparison();
  updateButtons();
  void refreshDarkKnowledge();
}

async function selectDataset(id: string): Promise<void> {
  const status = byId('data-status');
  status.dataset.ready = 'false';
  status.textContent = `Loading ${id}…`;
  try {
    const data = await getDataset(id);
    if (state.data !== data) {
      if (state.data !== undefined) resetForDataset();
      state.data = data;
      state.testLogits = undefined;
    }
    status.textContent = `${data.name}: ${formatCount(data.train.count)} training and ${formatCount(data.test.count)} test images`;
    status.dataset.ready = 'true';
    pickTestDigit(Number(byId<HTMLInputElement>('digit-index').value) || 0);
  } catch (err) {
    status.textContent = `Could not load ${id}.`;
    showMessage(`Could not load the ${id} data: ${errorText(err)}`);
  }
}

/** A folder of the user's images (one subfolder per class) becomes a dataset the form can pick. */
async function chooseFolder(files: FileList): Promise<void> {
  const status = byId('data-status');
  status.dataset.ready = 'false';
  status.textContent = `Reading ${files.length} files…`;
  let folder: FolderDataset;
  try {
    folder = await folderDataset(pickedFiles(files));
  } catch (err) {
    status.textContent = 'Could not read the folder.';
    showMessage(`Could not use that folder: ${errorText(err)}`, 'error', 'folder');
    return;
  }
  state.folders = [...state.folders.filter((f) => f.id !== folder.id), folder];
  state.datasets.set(folder.id, Promise.resolve(folder.dataset));
  const select = byId<HTMLSelectElement>('dataset');
  select.querySelector(`option[value="${CSS.escape(folder.id)}"]`)?.remove();
  select.append(new Option(folder.name, folder.id));
  select.value = folder.id;
  byId<HTMLInputElement>('train-size').value = String(folder.trainCount);
  byId<HTMLInputElement>('test-size').value = String(folder.testCount);
  if (folder.badFiles.length > 0) {
    showMessage(
      `${folder.badFiles.length} file${folder.badFiles.length === 1 ? '' : 's'} could not be read and ${folder.badFiles.length === 1 ? 'was' : 'were'} left out: ${folder.badFiles.slice(0, 5).join(', ')}${folder.badFiles.length > 5 ? ', …' : ''}`,
      'info',
      'folder',
    );
  }
  await selectDataset(folder.id);
}

byId<HTMLInputElement>('folder-input').addEventListener('change', (e) => {
  const files = (e.target as HTMLInputElement).files;
  if (files && files.length > 0) void chooseFolder(files);
});

byId<HTMLSelectElement>('dataset').addEventListener('change', (e) => {
  const id = (e.target as HTMLSelectElement).value;
  const entry = state.manifest?.datasets.find((d) => d.id === id) ?? state.folders.find((d) => d.id === id);
  if (entry) {
    byId<HTMLInputElement>('train-size').value = String(entry.trainCount);
    byId<HTMLInputElement>('test-size').value = String(entry.testCount);
  }
  void selectDataset(id);
});

// ---------------------------------------------------------------- form

function readForm(): RawRunSettings {
  const raw: Record<string, string> = {};
  for (const elt of Array.from(form.elements)) {
    const input = elt as HTMLInputElement | HTMLSelectElement;
    if (input.name) raw[input.name] = input.value;
  }
  return raw as RawRunSettings;
}

function namedFields(): (HTMLInputElement | HTMLSelectElement)[] {
  return Array.from(form.elements).filter(
    (e): e is HTMLInputElement | HTMLSelectElement =>
      (e instanceof HTMLInputElement || e instanceof HTMLSelectElement) && e.name !== '',
  );
}

function settingsContext() {
  return {
    models: availableChoices(MODEL_NAMES).map((c) => c.id),
    datasets: [...(state.manifest?.datasets ?? []), ...state.folders],
  };
}

/** Every field's error next to it (or none); `only` limits the update to those fields. */
function showProblems(
  problems: readonly { field: keyof RunSettings; message: string }[],
  only?: (f: HTMLInputElement | HTMLSelectElement) => boolean,
): void {
  for (const field of namedFields()) {
    if (only && !only(field)) continue;
    setFieldError(field, problems.find((p) => p.field === field.name)?.message);
  }
}

// As soon as a field holds a valid value its error goes (and a field already marked gets the new message);
// the settings are kept for the next visit.
form.addEventListener('input', onFormEdit);
form.addEventListener('change', onFormEdit);
function onFormEdit(): void {
  const parsed = parseRunSettings(readForm(), settingsContext());
  showProblems(parsed.ok ? [] : parsed.problems, hasFieldError);
  storeFormSettings(readForm());
}

function setRunning(running: boolean): void {
  state.running = running;
  byId<HTMLButtonElement>('run').disabled = running;
  byId<HTMLButtonElement>('stop').disabled = !running;
  byId<HTMLSelectElement>('backend').disabled = running;
  byId<HTMLSelectElement>('dataset').disabled = running;
  byId<HTMLInputElement>('folder-input').disabled = running;
  byId<HTMLInputElement>('load-teacher').disabled = running;
  byId<HTMLInputElement>('teacher-normalize').disabled = running;
  byId<HTMLSelectElement>('teacher-output').disabled = running;
  byId<HTMLButtonElement>('clear-stored').disabled = running;
  updateButtons();
}

function updateButtons(): void {
  byId<HTMLButtonElement>('download-student').disabled = state.running || !state.models.distilled;
  const reuse = byId<HTMLInputElement>('reuse-teacher');
  reuse.disabled = state.running || !hasTeacher();
  // Disabled while a run trains, the box keeps the user's choice; it unticks only when there is no teacher.
  reuse.checked = hasTeacher() && state.reuseWanted;
}

byId<HTMLInputElement>('reuse-teacher').addEventListener('change', (e) => {
  state.reuseWanted = (e.target as HTMLInputElement).checked;
});

// ---------------------------------------------------------------- panels and table

/** A panel's loss: the total, and for the distilled student its soft and hard parts. */
function lossText(logs: Logs): string {
  if (logs.loss === undefined) return '–';
  if (logs.softLoss === undefined || logs.hardLoss === undefined) return logs.loss.toFixed(4);
  return `${logs.loss.toFixed(4)} (soft ${logs.softLoss.toFixed(4)}, hard ${logs.hardLoss.toFixed(4)})`;
}

/** The text tables behind the two charts. */
function renderChartTables(): void {
  for (const metric of ['loss', 'accuracy'] as const) {
    const { header, rows } = curveTable(curves, metric);
    const table = byId<HTMLTableElement>(metric === 'loss' ? 'loss-table' : 'acc-table');
    const head = el('tr');
    head.append(...header.map((h) => Object.assign(el('th', undefined, h), { scope: 'col' })));
    const body = rows.map((r) => {
      const tr = el('tr');
      tr.append(...r.map((c) => el('td', undefined, c)));
      return tr;
    });
    table.replaceChildren(el('thead'), el('tbody'));
    table.tHead!.append(head);
    table.tBodies[0]!.append(...body);
  }
}

/** The dark-knowledge slider starts at the temperature a run distilled at. */
function syncSliderToRun(t: number): void {
  state.runT = t;
  slider.value = String(t);
  renderDarkKnowledge();
}

/** Puts a kept run's curves into the charts (and their tables). */
function showRunCurves(record: RunRecord): void {
  restoreCurves(curves, record.curves);
  state.shownRun = record.id;
  charts.setXMax(
    sharedXMax({ teacher: record.settings.teacherEpochs, baseline: record.settings.studentEpochs }),
  );
  renderChartTables();
}

const compareChoice = new Set<string>();

/** The history list: one line per kept run, with "Show its charts", "Compare" and "Delete". */
async function renderHistory(): Promise<void> {
  let runs: RunRecord[];
  try {
    runs = await listRuns();
  } catch (err) {
    byId('history-empty').textContent = `Could not read the run history: ${errorText(err)}`;
    return;
  }
  for (const id of [...compareChoice]) if (!runs.some((r) => r.id === id)) compareChoice.delete(id);
  byId('history-empty').hidden = runs.length > 0;
  byId('history-list').replaceChildren(
    ...runs.map((r, i) => {
      const li = el('li');
      li.dataset.id = r.id;
      const box = el('input');
      box.type = 'checkbox';
      box.checked = compareChoice.has(r.id);
      box.addEventListener('change', () => {
        if (box.checked) compareChoice.add(r.id);
        else compareChoice.delete(r.id);
        while (compareChoice.size > 2) compareChoice.delete(compareChoice.values().next().value!);
        void renderHistory();
      });
      const label = el('label');
      label.append(box, ` ${runTitle(r, i)}${r.id === state.shownRun ? ' (in the charts)' : ''}`);
      const show = el('button', 'show-run', `Show run ${i + 1}'s charts`);
      show.type = 'button';
      show.addEventListener('click', () => {
        showRunCurves(r);
        void renderHistory();
      });
      const del = el('button', 'delete-run', `Delete run ${i + 1}`);
      del.type = 'button';
      del.disabled = state.running && r.status === 'running';
      del.addEventListener('click', async () => {
        await deleteRun(r.id);
        compareChoice.delete(r.id);
        await renderHistory();
      });
      li.append(label, show, del);
      return li;
    }),
  );
  const chosen = runs.filter((r) => compareChoice.has(r.id));
  const box = byId('history-compare');
  box.hidden = chosen.length !== 2;
  if (chosen.length === 2) {
    const { header, rows } = compareRuns(chosen[0]!, chosen[1]!);
    const table = byId<HTMLTableElement>('history-compare-table');
    const head = el('tr');
    head.append(...header.map((h) => Object.assign(el('th', undefined, h), { scope: 'col' })));
    const thead = el('thead');
    thead.append(head);
    const tbody = el('tbody');
    tbody.append(
      ...rows.map((r) => {
        const tr = el('tr');
        tr.append(Object.assign(el('th', undefined, r[0]), { scope: 'row' }));
        tr.append(...r.slice(1).map((c) => el('td', undefined, c)));
        if (r[1] !== r[2]) tr.className = 'differs';
        return tr;
      }),
    );
    table.replaceChildren(thead, tbody);
    const index = (r: RunRecord) => runs.indexOf(r) + 1;
    box.querySelector('h3')!.textContent = `Run ${index(chosen[0]!)} and run ${index(chosen[1]!)}`;
  }
}

function panel(run: RunId): HTMLElement {
  return byId(`panel-${run}`);
}

function setPanel(
  run: RunId,
  fields: Partial<Record<'model' | 'params' | 'progress' | 'loss' | 'acc', string>>,
): void {
  for (const [k, v] of Object.entries(fields)) {
    const dd = panel(run).querySelector(`.p-${k}`);
    if (dd) dd.textContent = v;
  }
}

function setPanelState(run: RunId, s: 'idle' | 'training' | 'done' | 'stopped' | 'failed'): void {
  panel(run).dataset.state = s;
}

function setProgress(run: RunId, fraction: number): void {
  (panel(run).querySelector('.p-bar') as HTMLProgressElement).value = fraction;
}

function renderComparison(): void {
  const rows = comparisonRows(Object.values(state.results));
  const table = byId<HTMLTableElement>('comparison-table');
  const body = table.tBodies[0]!;
  body.replaceChildren(
    ...rows.map((r) => {
      const tr = el('tr');
      tr.dataset.run = r.run;
      const cells = [
        r.name,
        r.model,
        r.params,
        r.testErrors,
        r.vsBaseline,
        r.accuracy,
        r.testLoss,
        r.epochs,
        r.time,
      ];
      cells.forEach((c, i) => {
        const td = el('td', undefined, c);
        if (i === 4 && c.startsWith('-')) td.className = 'better';
        if (i === 4 && c.startsWith('+')) td.className = 'worse';
        tr.append(td);
      });
      return tr;
    }),
  );
  table.hidden = rows.length === 0;
  byId('comparison-empty').hidden = rows.length > 0;
  const all = Object.values(state.results);
  byId('comparison-summary').textContent = [gapSummary(all), teacherFileSentence(all)]
    .filter((x) => x !== undefined)
    .join(' ');
}

function showResultInPanel(result: RunResult): void {
  setPanel(result.run, {
    model: result.model,
    params: formatCount(result.params),
    acc: `test ${(result.accuracy * 100).toFixed(2)}%`,
    progress: `${result.epochs} epoch${result.epochs === 1 ? '' : 's'}${result.stopped ? ' (stopped)' : ''}`,
  });
  setProgress(result.run, 1);
  setPanelState(result.run, result.stopped ? 'stopped' : 'done');
}

// ---------------------------------------------------------------- training

async function startRun(): Promise<void> {
  if (state.running) return;
  clearMessage();
  const parsed = parseRunSettings(readForm(), settingsContext());
  await backendChain;
  if (!parsed.ok) {
    showProblems(parsed.problems);
    const n = parsed.problems.length;
    byId('run-status').textContent =
      `Fix the ${n === 1 ? 'field' : `${n} fields`} marked above to start a run.`;
    form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
    return;
  }
  showProblems([]);
  const settings = parsed.settings;
  const reuseTeacher = byId<HTMLInputElement>('reuse-teacher').checked && hasTeacher();
  // A new teacher is trained: the file's teacher goes.
  if (!reuseTeacher) dropFileTeacher();
  const controller = new TrainingController();
  state.controller = controller;
  setRunning(true);
  byId('run-status').textContent = 'Loading data…';
  const runsNow: RunId[] = reuseTeacher ? ['baseline', 'distilled'] : [...RUN_IDS];
  let record: RunRecord = {
    id: newRunId(),
    startedAt: new Date().toISOString(),
    settings,
    backend: state.backend?.backend ?? 'unknown',
    results: reuseTeacher && state.results.teacher ? { teacher: state.results.teacher } : {},
    curves: snapshotCurves(new Curves()),
    status: 'running',
  };
  const keepRecord = async (change: Partial<RunRecord>) => {
    record = { ...record, ...change, curves: snapshotCurves(curves) };
    try {
      await putRun(record);
    } catch (err) {
      byId('storage-status').textContent = `Could not keep the run in IndexedDB: ${errorText(err)}`;
    }
    await renderHistory();
  };
  state.shownRun = record.id;
  syncSliderToRun(settings.temperature);
  try {
    const data = await getDataset(settings.dataset);
    state.data = data;
    await forgetRuns(runsNow);
    for (const run of runsNow) {
      curves.clear(run);
      delete state.results[run];
      delete state.models[run];
      setPanel(run, { progress: 'waiting', loss: '–', acc: '–' });
      setProgress(run, 0);
      setPanelState(run, 'idle');
    }
    charts.setXMax(sharedXMax({ teacher: settings.teacherEpochs, baseline: settings.studentEpochs }));
    renderComparison();
    const started = performance.now();
    let epochsPlanned: Record<RunId, number> = { teacher: 0, baseline: 0, distilled: 0 };
    const models = await runSession(
      settings,
      data,
      {
        onRunStart(run, info) {
          // The model in training is the current one (the dark-knowledge view follows the teacher live).
          state.models[run] = info.layersModel;
          if (run === 'teacher') state.teacherName = info.model;
          epochsPlanned = { ...epochsPlanned, [run]: info.epochs };
          setPanel(run, {
            model: info.model,
            params: formatCount(info.params),
            progress: `epoch 1 / ${info.epochs}`,
          });
          setPanelState(run, 'training');
          byId('run-status').textContent = `Training the ${RUN_STYLE[run].label.toLowerCase()}…`;
        },
        onBatch(run, epoch, step, stepsPerEpoch, logs: Logs) {
          // The chart shows what each run minimises: its total loss (the distilled student's parts are in
          // its panel).
          const loss = logs.loss;
          if (loss !== undefined) curves.addLoss(run, epoch, step, stepsPerEpoch, loss);
          const total = epochsPlanned[run] * stepsPerEpoch;
          setProgress(run, (epoch * stepsPerEpoch + step + 1) / Math.max(1, total));
          setPanel(run, {
            progress: `epoch ${epoch + 1} / ${epochsPlanned[run]}, batch ${step + 1} / ${stepsPerEpoch}`,
            loss: lossText(logs),
          });
          charts.schedule();
        },
        onEpoch(run, epoch, logs: Logs) {
          if (logs.val_acc !== undefined) {
            curves.addAccuracy(run, epoch + 1, logs.val_acc);
            setPanel(run, { acc: `validation ${(logs.val_acc * 100).toFixed(2)}%` });
          }
          charts.schedule();
          renderChartTables();
          if (run === 'teacher') void refreshDarkKnowledge();
        },
        async onRunEnd(run, result, model) {
          state.results[run] = result;
          state.models[run] = model;
          if (run === 'teacher') {
            state.teacherName = result.model;
            state.teacherId = result.teacher ?? result.model;
            state.testLogits = undefined;
            await refreshDarkKnowledge();
          }
          showResultInPanel(result);
          renderComparison();
          await keepRecord({ results: { ...record.results, [run]: result } });
          try {
            await storeModel(run, model);
            storeMeta({
              dataset: settings.dataset,
              results: state.results,
              settings,
              ...(state.backend ? { backend: state.backend.backend } : {}),
            });
            byId('storage-status').textContent = 'Models are kept in this browser (IndexedDB).';
          } catch (err) {
            byId('storage-status').textContent =
              `Could not keep the ${run} model in IndexedDB: ${errorText(err)}`;
          }
        },
        onMessage() {},
      },
      controller,
      reuseTeacher
        ? {
            model: state.fileTeacher?.teacher ?? state.models.teacher!,
            name: state.teacherId || state.teacherName,
            file: state.fileTeacher?.info.file,
          }
        : undefined,
    );
    if (reuseTeacher && models.teacher && !isTeacher(models.teacher)) state.models.teacher = models.teacher;
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    byId('run-status').textContent = controller.stopRequested
      ? `Stopped after ${secs} s.`
      : `Done in ${secs} s.`;
    await keepRecord({ status: controller.stopRequested ? 'stopped' : 'done' });
  } catch (err) {
    for (const run of runsNow) if (panel(run).dataset.state === 'training') setPanelState(run, 'failed');
    byId('run-status').textContent = 'Training failed.';
    showMessage(`Training failed: ${errorText(err)}`);
    await keepRecord({ status: 'failed' });
  } finally {
    state.controller = undefined;
    setRunning(false);
  }
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  void startRun();
});

byId('stop').addEventListener('click', () => {
  state.controller?.stop('Stop button');
  byId('run-status').textContent = 'Stopping after this batch…';
});

// ---------------------------------------------------------------- models: download, load, forget

byId('download-student').addEventListener('click', async () => {
  const m = state.models.distilled;
  if (!m) return;
  try {
    await saveModel(m, 'downloads://distilljs-distilled-student');
  } catch (err) {
    showMessage(`Could not download the distilled student: ${errorText(err)}`);
  }
});

// ---------------------------------------------------------------- a teacher from files

/** The files of the last teacher picked, kept to reload it with another output or normalisation. */
let teacherFiles: File[] = [];

function hasTeacher(): boolean {
  return state.fileTeacher !== undefined || state.models.teacher !== undefined;
}

/** The current teacher's logits for a batch of images in [0, 1] (the caller disposes them). */
async function teacherLogits(xs: tf.Tensor): Promise<tf.Tensor | undefined> {
  const file = state.fileTeacher;
  if (file) {
    const n = xs.shape[0]!;
    return file.teacher.logits({ xs, labels: new Int32Array(n).fill(-1), indices: new Int32Array(n) });
  }
  const model = state.models.teacher;
  return model ? tf.tidy(() => model.predict(xs) as tf.Tensor) : undefined;
}

function showTeacherError(text: string | undefined): void {
  const line = byId('teacher-file-error');
  line.textContent = text ?? '';
  line.hidden = text === undefined;
}

function renderTeacherInfo(file: TeacherFile | undefined): void {
  const dl = byId('teacher-file-info');
  dl.hidden = file === undefined;
  dl.replaceChildren(
    ...(file ? teacherFileFacts(file.info) : []).flatMap(([term, value]) => [
      el('dt', undefined, term),
      Object.assign(el('dd', undefined, value), { title: value }),
    ]),
  );
}

/** Forgets the file's teacher (another teacher replaces it, or the dataset changed). */
function dropFileTeacher(): void {
  const file = state.fileTeacher;
  if (!file) return;
  state.fileTeacher = undefined;
  void file.dispose();
  renderTeacherInfo(undefined);
  byId('teacher-file-status').textContent = `${file.info.file} is no longer the teacher.`;
}

function showOutputChoice(outputs: readonly string[], chosen: string | undefined): void {
  const select = byId<HTMLSelectElement>('teacher-output');
  byId('teacher-output-label').hidden = outputs.length < 2;
  select.replaceChildren(new Option('choose the output…', ''), ...outputs.map((o) => new Option(o, o)));
  select.value = chosen ?? '';
}

/** Loads picked or dropped files as the teacher; refuses them in one line in the card. */
async function pickTeacherFiles(files: File[], output?: string): Promise<void> {
  if (state.running || files.length === 0) return;
  const data = state.data;
  const status = byId('teacher-file-status');
  showTeacherError(undefined);
  if (!data) {
    showTeacherError('The data is not loaded yet: pick the teacher again once it is.');
    return;
  }
  const norm = parseNormalizeField(byId<HTMLInputElement>('teacher-normalize').value, data.imageShape[2]);
  if (!norm.ok) {
    showTeacherError(norm.message);
    return;
  }
  if (teacherFiles !== files) showOutputChoice([], undefined);
  teacherFiles = files;
  status.textContent = `Loading ${files.map((f) => f.name).join(', ')}…`;
  let loaded: TeacherFile;
  try {
    loaded = await loadTeacherFile(files, data, { normalize: norm.value, output });
  } catch (err) {
    status.textContent = '';
    if (err instanceof ChooseOutputError) showOutputChoice(err.outputs, undefined);
    showTeacherError(
      err instanceof ChooseOutputError ? err.message : `Could not load the teacher: ${errorText(err)}`,
    );
    return;
  }
  await useTeacherFile(loaded, data);
}

/** The loaded file becomes the teacher: scored on the test examples, shown, and ticked to be kept. */
async function useTeacherFile(loaded: TeacherFile, data: ImageDataset): Promise<void> {
  disposeRun('teacher');
  state.fileTeacher = loaded;
  if (loaded.layersModel) state.models.teacher = loaded.layersModel;
  const { file } = loaded.info;
  state.teacherName = file;
  state.teacherId = `${file} (loaded ${new Date().toISOString()})`;
  renderTeacherInfo(loaded);
  const asked = parseNumber(byId<HTMLInputElement>('test-size').value);
  const take = Math.min(data.test.count, asked && asked > 0 ? Math.floor(asked) : data.test.count);
  const ev = await evaluate(loaded.teacher, createBatchStream(data, { split: 'test', batchSize: 500, take }));
  state.results.teacher = {
    run: 'teacher',
    dataset: byId<HTMLSelectElement>('dataset').value,
    teacher: state.teacherId,
    teacherFile: file,
    model: file,
    params: loaded.info.parameters ?? 0,
    accuracy: ev.accuracy,
    testLoss: ev.nll,
    testCount: ev.count,
    epochs: 0,
    seconds: 0,
    stopped: false,
  };
  showResultInPanel(state.results.teacher);
  renderComparison();
  state.testLogits = undefined;
  await refreshDarkKnowledge();
  state.reuseWanted = true;
  updateButtons();
  byId('teacher-file-status').textContent =
    `Loaded ${file} as the teacher: ${(ev.accuracy * 100).toFixed(2)}% test accuracy (${testErrors(ev.accuracy, ev.count)} errors on ${ev.count} test images). "Keep the current teacher" is ticked, so Run distils the students from it.`;
}

byId<HTMLInputElement>('load-teacher').addEventListener('change', (e) => {
  const input = e.target as HTMLInputElement;
  const files = Array.from(input.files ?? []);
  input.value = '';
  void pickTeacherFiles(files);
});

{
  const drop = byId('teacher-drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('dragging');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('dragging');
    void pickTeacherFiles(Array.from(e.dataTransfer?.files ?? []));
  });
}

byId<HTMLSelectElement>('teacher-output').addEventListener('change', (e) => {
  const output = (e.target as HTMLSelectElement).value;
  if (output) void pickTeacherFiles(teacherFiles, output);
});

byId<HTMLInputElement>('teacher-normalize').addEventListener('change', () => {
  const output = byId<HTMLSelectElement>('teacher-output').value || undefined;
  if (teacherFiles.length > 0) void pickTeacherFiles(teacherFiles, output);
});

byId('clear-stored').addEventListener('click', async () => {
  try {
    const n = await forgetModels();
    byId('storage-status').textContent = `Removed ${n} stored model${n === 1 ? '' : 's'}.`;
  } catch (err) {
    showMessage(`Could not clear IndexedDB: ${errorText(err)}`);
  }
});

// ---------------------------------------------------------------- dark knowledge

const digitView = byId<HTMLCanvasElement>('digit-view');
const drawPad = byId<HTMLCanvasElement>('draw-pad');
const slider = byId<HTMLInputElement>('dk-temperature');

function showDigit(pixels: Uint8Array): void {
  const ctx = digitView.getContext('2d')!;
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    img.data[i * 4] = pixels[i]!;
    img.data[i * 4 + 1] = pixels[i]!;
    img.data[i * 4 + 2] = pixels[i]!;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function pickTestDigit(index: number): void {
  const data = state.data;
  if (!data) return;
  const n = data.test.count;
  const i = ((Math.round(index) % n) + n) % n;
  byId<HTMLInputElement>('digit-index').value = String(i);
  const px = data.imageShape[0] * data.imageShape[1] * data.imageShape[2];
  const pixels = data.test.images.slice(i * px, (i + 1) * px);
  const label = data.test.labels[i]!;
  state.digit = { kind: 'test', pixels, label, index: i };
  showDigit(pixels.length === 784 ? pixels : pixels.filter((_, k) => k % data.imageShape[2] === 0));
  byId('digit-caption').textContent = `test #${i}, label ${data.classNames[label] ?? label}`;
  digitView.setAttribute('aria-label', `test digit #${i}, labelled ${data.classNames[label] ?? label}`);
  void refreshDigit();
}

/** Teacher logits for the current digit, then the bars. */
async function refreshDigit(): Promise<void> {
  const digit = state.digit;
  const data = state.data;
  if (!hasTeacher() || !digit || !data) {
    state.digitLogits = undefined;
    renderDarkKnowledge();
    return;
  }
  const x = tf.tidy(() => tf.div(tf.tensor4d(digit.pixels, [1, ...data.imageShape], 'float32'), 255));
  const logits = await teacherLogits(x);
  x.dispose();
  state.digitLogits = logits ? Array.from(await logits.data()) : undefined;
  logits?.dispose();
  renderDarkKnowledge();
}

/** Teacher logits over the test examples (for the class-similarity list). */
async function refreshTestLogits(): Promise<void> {
  const data = state.data;
  if (!hasTeacher() || !data) return;
  const n = Math.min(data.test.count, 2000);
  const stream = createBatchStream(data, { split: 'test', batchSize: 500, take: n });
  const logits = new Float32Array(n * data.numClasses);
  const labels = new Uint8Array(n);
  let k = 0;
  for (const batch of stream.epoch(0)) {
    const out = await teacherLogits(batch.xs);
    if (!out) {
      batch.xs.dispose();
      break;
    }
    logits.set(await out.data(), k * data.numClasses);
    out.dispose();
    batch.xs.dispose();
    labels.set(batch.labels, k);
    k += batch.labels.length;
  }
  state.testLogits = { logits, labels };
}

async function refreshDarkKnowledge(): Promise<void> {
  await refreshTestLogits();
  await refreshDigit();
}

function renderDarkKnowledge(): void {
  const t = parseTemperature(slider.value);
  const T = t.ok ? t.value : 1;
  byId('slider-value').textContent = String(T);
  const data = state.data;
  const labels = data?.classNames ?? [];
  const logScale = byId<HTMLInputElement>('log-scale').checked ? 'log' : 'linear';
  const status = byId('dk-status');
  const runT = state.runT;
  byId('slider-note').textContent =
    runT === undefined
      ? ''
      : runT === T
        ? `This is the temperature the last run distilled at (the form's Temperature T = ${runT}).`
        : `The last run distilled at T = ${runT} (the form's Temperature); this view is at T = ${T}, to explore.`;
  if (!state.digitLogits || !data) {
    status.textContent = hasTeacher() ? 'Pick a digit.' : 'Train or load a teacher to see its soft targets.';
    return;
  }
  const p1 = temperatureSoftmax(state.digitLogits, 1);
  const pT = temperatureSoftmax(state.digitLogits, T);
  renderBars(byId('bars-t1'), barValues(p1, labels, logScale));
  renderBars(byId('bars-t'), barValues(pT, labels, logScale));
  const predicted = p1.indexOf(Math.max(...p1));
  const exclude = state.digit?.label ?? predicted;
  byId('similar-digit').replaceChildren(
    ...topSimilarClasses(pT, exclude, labels, 3).map((c) =>
      el('li', undefined, `${c.label}: ${(c.probability * 100).toFixed(2)}% at T = ${T}`),
    ),
  );
  if (state.testLogits) {
    const { logits, labels: ys } = state.testLogits;
    const probs = new Float64Array(logits.length);
    const k = data.numClasses;
    for (let i = 0; i < ys.length; i++) {
      probs.set(temperatureSoftmax(logits.subarray(i * k, (i + 1) * k), T), i * k);
    }
    byId('similar-pairs').replaceChildren(
      ...similarClassPairs(probs, ys, k, labels, 5).map((pair) =>
        el(
          'li',
          undefined,
          `${pair.trueLabel} looks like ${pair.similarLabel}: ${(pair.meanProbability * 100).toFixed(2)}%`,
        ),
      ),
    );
  }
  const who = state.digit?.kind === 'drawn' ? 'your drawing' : `test digit #${state.digit?.index}`;
  status.textContent = `The teacher (${state.teacherName}) says ${labels[predicted] ?? predicted} for ${who}.`;
}

slider.addEventListener('input', renderDarkKnowledge);
byId('log-scale').addEventListener('change', renderDarkKnowledge);
byId<HTMLInputElement>('digit-index').addEventListener('change', (e) => {
  const input = e.target as HTMLInputElement;
  const v = parseNumber(input.value);
  if (v !== undefined && Number.isInteger(v)) {
    setFieldError(input, undefined);
    pickTestDigit(v);
  } else {
    const n = state.data?.test.count;
    setFieldError(
      input,
      `Test digit # must be a whole number${n ? ` from 0 to ${n - 1}` : ''}; got ${JSON.stringify(input.value)}.`,
    );
  }
});
byId('digit-prev').addEventListener('click', () => pickTestDigit((state.digit?.index ?? 0) - 1));
byId('digit-next').addEventListener('click', () => pickTestDigit((state.digit?.index ?? 0) + 1));
byId('digit-random').addEventListener('click', () =>
  pickTestDigit(Math.floor(Math.random() * (state.data?.test.count ?? 1))),
);

// The drawing pad: white strokes on black, turned into an MNIST-style digit on release. It takes the
// mouse, touch and pens (pointer events, no page scrolling on it) and the keyboard (focusable).
drawPad.tabIndex = 0;
drawPad.setAttribute('role', 'application');
drawPad.setAttribute('aria-roledescription', 'drawing pad');
drawPad.setAttribute('aria-label', 'Drawing pad');
// Sideways-scrolling tables can be scrolled from the keyboard.
for (const box of Array.from(document.querySelectorAll<HTMLElement>('.table-scroll'))) box.tabIndex = 0;
{
  const ctx = drawPad.getContext('2d', { willReadFrequently: true })!;
  const clear = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, drawPad.width, drawPad.height);
  };
  clear();
  let drawing = false;
  const pos = (e: PointerEvent) => {
    const r = drawPad.getBoundingClientRect();
    return [
      ((e.clientX - r.left) / r.width) * drawPad.width,
      ((e.clientY - r.top) / r.height) * drawPad.height,
    ] as const;
  };
  drawPad.addEventListener('pointerdown', (e) => {
    drawing = true;
    try {
      drawPad.setPointerCapture(e.pointerId);
    } catch {
      // a pointer that already ended: the stroke still draws while it stays over the pad
    }
    const [x, y] = pos(e);
    ctx.beginPath();
    ctx.moveTo(x, y);
  });
  drawPad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    const [x, y] = pos(e);
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 22;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.lineTo(x, y);
    ctx.stroke();
  });
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    const ink = rgbaToInk(ctx.getImageData(0, 0, drawPad.width, drawPad.height).data);
    const pixels = drawingToMnist(ink, drawPad.width, drawPad.height);
    if (!pixels || state.data?.imageShape[2] !== 1) return;
    state.digit = { kind: 'drawn', pixels, label: undefined, index: undefined };
    showDigit(pixels);
    byId('digit-caption').textContent = 'your drawing (28x28)';
    digitView.setAttribute('aria-label', 'your drawing, scaled to 28 by 28 pixels');
    void refreshDigit();
  };
  drawPad.addEventListener('pointerup', finish);
  drawPad.addEventListener('pointercancel', finish);
  // The keyboard: arrows move the pen (a tenth of the pad), Space puts it down or lifts it, Enter reads.
  let cursor = [drawPad.width / 2, drawPad.height * 0.2] as [number, number];
  let penDown = false;
  const moves: Record<string, [number, number]> = {
    ArrowUp: [0, -1],
    ArrowDown: [0, 1],
    ArrowLeft: [-1, 0],
    ArrowRight: [1, 0],
  };
  drawPad.addEventListener('keydown', (e) => {
    const move = moves[e.key];
    if (move) {
      e.preventDefault();
      const step = drawPad.width / 10;
      const next: [number, number] = [
        Math.min(drawPad.width, Math.max(0, cursor[0] + move[0] * step)),
        Math.min(drawPad.height, Math.max(0, cursor[1] + move[1] * step)),
      ];
      if (penDown) {
        ctx.strokeStyle = '#fff';
        ctx.lineWidth = 22;
        ctx.lineCap = 'round';
        ctx.beginPath();
        ctx.moveTo(...cursor);
        ctx.lineTo(...next);
        ctx.stroke();
      }
      cursor = next;
    } else if (e.key === ' ') {
      e.preventDefault();
      penDown = !penDown;
    } else if (e.key === 'Enter') {
      e.preventDefault();
      penDown = false;
      drawing = true;
      finish();
    }
  });
  byId('draw-clear').addEventListener('click', () => {
    clear();
    pickTestDigit(Number(byId<HTMLInputElement>('digit-index').value) || 0);
  });
}

// ---------------------------------------------------------------- start

async function init(): Promise<void> {
  const preset = parseUrlPreset(location.search);
  // Model choices (only those the installed zoo has).
  const choices = availableChoices(MODEL_NAMES);
  for (const id of ['teacher-model', 'student-model']) {
    const select = byId<HTMLSelectElement>(id);
    select.replaceChildren(...choices.map((c) => new Option(c.label, c.id)));
    select.value = id === 'teacher-model' ? DEFAULT_TEACHER : DEFAULT_STUDENT;
  }
  const backendSelect = byId<HTMLSelectElement>('backend');
  if (preset.backend && isBackendRequest(preset.backend)) backendSelect.value = preset.backend;
  const backendReady = chooseBackend(backendSelect.value as BackendRequest);

  try {
    state.manifest = await loadManifest();
  } catch (err) {
    showMessage(errorText(err));
    return;
  }
  const dsSelect = byId<HTMLSelectElement>('dataset');
  dsSelect.replaceChildren(...state.manifest.datasets.map((d) => new Option(d.name, d.id)));
  const first = state.manifest.datasets[0]!;
  byId<HTMLInputElement>('train-size').value = String(first.trainCount);
  byId<HTMLInputElement>('test-size').value = String(first.testCount);
  // The settings of the last visit, then URL presets, go into the form as text and are checked like typed
  // input.
  const kept = readFormSettings();
  if (kept.dataset && state.manifest.datasets.some((d) => d.id === kept.dataset))
    dsSelect.value = kept.dataset;
  for (const [name, value] of Object.entries({ ...kept, ...preset.fields })) {
    const input = form.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${name}"]`);
    if (input && value !== undefined) input.value = value;
  }
  await backendReady;
  await selectDataset(dsSelect.value || first.id);

  // Models from an earlier visit.
  try {
    const restored = await restoreModels();
    const meta = readMeta();
    const names = Object.keys(restored) as RunId[];
    // models stored for another dataset (or without a record of theirs) are not brought back
    const fits = meta !== undefined && meta.dataset === dsSelect.value;
    if (!fits) for (const m of Object.values(restored)) m?.dispose();
    if (names.length > 0 && fits) {
      Object.assign(state.models, restored);
      Object.assign(state.results, meta.results);
      for (const r of Object.values(meta.results)) if (r && restored[r.run]) showResultInPanel(r);
      renderComparison();
      state.teacherName = meta.results.teacher?.model ?? 'restored teacher';
      state.teacherId = meta.results.teacher?.teacher ?? state.teacherName;
      byId('storage-status').textContent =
        `Restored ${names.map((n) => RUN_STYLE[n].label.toLowerCase()).join(', ')} from IndexedDB.`;
      updateButtons();
      await refreshDarkKnowledge();
    }
  } catch (err) {
    byId('storage-status').textContent = `Could not read stored models: ${errorText(err)}`;
  }
  // The run history: the charts come back with the last run's curves.
  try {
    const runs = await listRuns();
    const last = runs.at(-1);
    if (last) {
      showRunCurves(last);
      syncSliderToRun(last.settings.temperature);
    }
  } catch (err) {
    byId('storage-status').textContent = `Could not read the run history: ${errorText(err)}`;
  }
  await renderHistory();
  if (preset.autorun) void startRun();
}

void init().catch((err) => showMessage(`The playground could not start: ${errorText(err)}`));

// Fields named in problems keep their label in the tooltip for screen readers.
for (const elt of Array.from(form.elements)) {
  const input = elt as HTMLInputElement;
  if (input.name) input.title = fieldLabel(input.name as keyof RunSettings);
}

// ---------------------------------------------------------------- predict with an exported student

const predictor = {
  model: undefined as LayersModel | undefined,
  pre: undefined as ExportedPreprocessing | undefined,
  name: '',
};

/** The preprocessing of the loaded model, or (for a model saved without it) the page's dataset's. */
function predictorPreprocessing(): ExportedPreprocessing | undefined {
  if (predictor.pre) return predictor.pre;
  const data = state.data;
  if (!data) return undefined;
  const [height, width, channels] = data.imageShape;
  return {
    image: { height, width, channels: channels === 3 ? 3 : 1, resize: 'stretch' },
    classNames: data.classNames,
  };
}

async function predictBytes(bytes: Uint8Array, what: string): Promise<void> {
  const model = predictor.model;
  const pre = predictorPreprocessing();
  if (!model || !pre) return;
  const { height, width, channels } = pre.image;
  const probs = tf.tidy(() => {
    const out = model.predict(tf.tensor4d(modelInput(bytes, pre), [1, height, width, channels])) as tf.Tensor;
    return tf.softmax(out);
  });
  const p = Array.from(await probs.data());
  probs.dispose();
  const list = byId('predict-result');
  list.replaceChildren(
    ...topClasses(p, pre.classNames).map((c) => {
      const li = document.createElement('li');
      li.textContent = `${c.className}: ${(c.probability * 100).toFixed(2)}%`;
      li.dataset.p = String(c.probability);
      return li;
    }),
  );
  byId('predict-status').textContent = `${predictor.name} on ${what}:`;
}

async function predictImageFile(file: File): Promise<void> {
  const pre = predictorPreprocessing();
  if (!predictor.model || !pre) return;
  try {
    const { height, width, channels, resize } = pre.image;
    const bytes = await decodeImageBlob(file, { imageSize: [height, width], channels, resize }, file.name);
    await predictBytes(bytes, file.name);
  } catch (err) {
    byId('predict-status').textContent = `Could not predict on ${file.name}: ${errorText(err)}`;
  }
}

byId<HTMLInputElement>('predict-model').addEventListener('change', async (e) => {
  const input = e.target as HTMLInputElement;
  const files = Array.from(input.files ?? []);
  input.value = '';
  if (files.length === 0) return;
  const status = byId('predict-status');
  try {
    const texts = await Promise.all(
      files.map((f) => (f.name.toLowerCase().endsWith('.json') ? f.text() : '')),
    );
    const check = checkModelFiles(files, (i) => texts[i] ?? '');
    if (!check.ok) throw new Error(check.message);
    const jsonFile = files[check.jsonIndex]!;
    const model = await loadModel(
      tf.io.browserFiles([jsonFile, ...check.weightIndices.map((i) => files[i]!)]),
    );
    const pre = exportedPreprocessing(model);
    predictor.model?.dispose();
    predictor.model = model;
    predictor.pre = pre;
    predictor.name = jsonFile.name;
    const use = predictorPreprocessing();
    status.textContent = `Loaded ${jsonFile.name}: ${use ? `${use.image.height} x ${use.image.width} x ${use.image.channels} inputs, ${use.classNames.length} classes` : 'no preprocessing'}${pre ? '' : " (no saved preprocessing: the page dataset's are used)"}.`;
    byId('predict-result').replaceChildren();
    byId<HTMLInputElement>('predict-image').disabled = false;
    byId<HTMLButtonElement>('predict-digit').disabled = false;
  } catch (err) {
    status.textContent = `Could not load the model: ${errorText(err)}`;
  }
});

byId<HTMLInputElement>('predict-image').addEventListener('change', (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) void predictImageFile(file);
});

byId('predict').addEventListener('dragover', (e) => e.preventDefault());
byId('predict').addEventListener('drop', (e) => {
  e.preventDefault();
  const file = Array.from(e.dataTransfer?.files ?? []).find((f) => f.type.startsWith('image/'));
  if (file) void predictImageFile(file);
});

byId('predict-digit').addEventListener('click', () => {
  const digit = state.digit;
  const pre = predictorPreprocessing();
  if (!digit || !pre) return;
  const { height, width, channels } = pre.image;
  if (height * width * channels !== digit.pixels.length) {
    byId('predict-status').textContent =
      `${predictor.name} takes ${height} x ${width} x ${channels} images; the digit above is 28 x 28 x 1: choose an image file instead.`;
    return;
  }
  void predictBytes(digit.pixels, digit.kind === 'drawn' ? 'the drawn digit' : `test digit #${digit.index}`);
});
