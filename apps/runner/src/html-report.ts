import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { bundledAssets } from './bundled-assets.js';

/** One training curve (a teacher, baseline or distilled student of one seed). */
export interface ReportCurve {
  readonly label: string;
  /** `teacher`, `baseline` or `distilled`; picks the colour. */
  readonly role: string;
  /** Per epoch: training loss and the validation split's accuracy (and loss) when measured. */
  readonly points: readonly {
    epoch: number;
    loss?: number;
    acc?: number;
    valAcc?: number;
    valLoss?: number;
  }[];
}

/** The soft targets of one test image at several temperatures. */
export interface SoftTargetPicture {
  readonly caption: string;
  readonly label: number;
  readonly classNames: readonly string[];
  /** Pixels, row-major HWC bytes. */
  readonly image: Uint8Array;
  readonly imageShape: readonly [number, number, number];
  readonly temperatures: readonly { temperature: number; probs: readonly number[] }[];
}

/** Everything the HTML report shows. */
export interface HtmlReport {
  readonly title: string;
  /** Lines under the title: command, backend, dataset, date. */
  readonly subtitle: readonly string[];
  readonly table: { readonly head: readonly string[]; readonly rows: readonly (readonly string[])[] };
  readonly curves: readonly ReportCurve[];
  readonly softTargets?: SoftTargetPicture | undefined;
  readonly notes?: readonly string[];
}

let chartJsSource: string | undefined;

/** The Chart.js UMD bundle from node_modules, read once, to inline into the report. */
export function chartJsBundle(): string {
  if (chartJsSource !== undefined) return chartJsSource;
  const bundled = bundledAssets().chartJs;
  if (bundled !== undefined) {
    chartJsSource = bundled;
    return bundled;
  }
  const require = createRequire(import.meta.url);
  const dist = dirname(require.resolve('chart.js'));
  const file = ['chart.umd.min.js', 'chart.umd.js'].map((f) => join(dist, f)).find((f) => existsSync(f));
  if (!file) throw new Error(`chart.js UMD bundle not found in ${dist}`);
  chartJsSource = readFileSync(file, 'utf8');
  return chartJsSource;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe to place inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/**
 * Renders a self-contained HTML page (no network): the results table, one chart of the training loss
 * and one of validation accuracy with teacher, baseline and distilled students on the same axes, and the
 * soft-target picture. Chart.js is inlined from node_modules.
 */
export function renderHtmlReport(report: HtmlReport): string {
  const table = `<table><thead><tr>${report.table.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${report.table.rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
  const soft = report.softTargets;
  const softHtml = soft
    ? `<h2>Soft targets</h2><p>${esc(soft.caption)}</p><div class="soft"><canvas id="digit" width="${soft.imageShape[1]}" height="${soft.imageShape[0]}"></canvas><div class="chart"><canvas id="soft"></canvas></div></div>`
    : '';
  const data = {
    curves: report.curves,
    soft: soft
      ? {
          image: Array.from(soft.image),
          shape: soft.imageShape,
          classNames: soft.classNames,
          temperatures: soft.temperatures,
        }
      : null,
  };
  const bundle = chartJsBundle().replace(/<\/script/gi, '<\\/script');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(report.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1000px;padding:0 1rem;color:#222}
h1{font-size:1.5rem;margin-bottom:.2rem} .sub{color:#666;margin:.1rem 0}
table{border-collapse:collapse;margin:1rem 0} th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left} th{background:#f4f4f4}
.chart{position:relative;height:320px;flex:1;min-width:300px} .row{display:flex;gap:1rem;flex-wrap:wrap}
.soft{display:flex;gap:1.5rem;align-items:center} #digit{width:168px;height:168px;image-rendering:pixelated;border:1px solid #ccc}
</style></head><body>
<h1>${esc(report.title)}</h1>
${report.subtitle.map((s) => `<p class="sub">${esc(s)}</p>`).join('\n')}
<h2>Results</h2>
${table}
${(report.notes ?? []).map((n) => `<p>${esc(n)}</p>`).join('\n')}
<h2>Training curves</h2>
<div class="row"><div class="chart"><canvas id="loss"></canvas></div><div class="chart"><canvas id="acc"></canvas></div></div>
${softHtml}
<script>${bundle}</script>
<script>
const DATA = ${scriptJson(data)};
const COLORS = { teacher: '#1f77b4', baseline: '#d62728', distilled: '#2ca02c' };
const PALETTE = ['#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
function color(c, i) { return COLORS[c.role] || PALETTE[i % PALETTE.length]; }
function lineChart(id, key, title, yLabel) {
  const datasets = DATA.curves.map((c, i) => ({
    label: c.label,
    data: c.points.filter((p) => typeof p[key] === 'number').map((p) => ({ x: p.epoch + 1, y: p[key] })),
    borderColor: color(c, i), backgroundColor: color(c, i), tension: 0.2, pointRadius: 2,
  })).filter((d) => d.data.length > 0);
  new Chart(document.getElementById(id), {
    type: 'line', data: { datasets },
    options: { maintainAspectRatio: false, animation: false, parsing: false,
      plugins: { title: { display: true, text: title } },
      scales: { x: { type: 'linear', title: { display: true, text: 'epoch' }, ticks: { precision: 0 } },
                y: { title: { display: true, text: yLabel } } } },
  });
}
lineChart('loss', 'loss', 'Training loss', 'loss');
const HAS_VAL = DATA.curves.some((c) => c.points.some((p) => typeof p.valAcc === 'number'));
lineChart('acc', HAS_VAL ? 'valAcc' : 'acc',
  HAS_VAL ? 'Validation accuracy (validation split, held out of training; not the test split)' : 'Training accuracy',
  HAS_VAL ? 'validation accuracy' : 'training accuracy');
if (DATA.soft) {
  const [h, w, ch] = DATA.soft.shape;
  const ctx = document.getElementById('digit').getContext('2d');
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) img.data[4 * i + k] = 255 - DATA.soft.image[i * ch + (ch === 3 ? k : 0)];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  new Chart(document.getElementById('soft'), {
    type: 'bar',
    data: { labels: DATA.soft.classNames, datasets: DATA.soft.temperatures.map((t, i) => ({
      label: 'T = ' + t.temperature, data: t.probs, backgroundColor: PALETTE[i % PALETTE.length] })) },
    options: { maintainAspectRatio: false, animation: false,
      plugins: { title: { display: true, text: 'Teacher soft targets (log scale)' } },
      scales: { y: { type: 'logarithmic', min: 1e-8, max: 1, title: { display: true, text: 'probability' } } } },
  });
}
</script>
</body></html>
`;
}
