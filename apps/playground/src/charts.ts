import { Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';
import { type Curves, chartDatasets, type Metric } from './chart-data.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

/** The two live charts (loss, accuracy), all three runs on shared axes. */
export class LiveCharts {
  private readonly charts: Record<Metric, Chart<'line', { x: number; y: number }[]>>;
  private pending = false;
  private xMax = 1;

  constructor(
    lossCanvas: HTMLCanvasElement,
    accCanvas: HTMLCanvasElement,
    private readonly curves: Curves,
  ) {
    const make = (canvas: HTMLCanvasElement, metric: Metric) =>
      new Chart(canvas, {
        type: 'line',
        data: { datasets: chartDatasets(curves, metric) },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          parsing: false,
          normalized: true,
          scales: {
            x: {
              type: 'linear',
              min: 0,
              max: 1,
              title: { display: true, text: 'epoch', color: '#8b98a5' },
              ticks: { color: '#8b98a5' },
              grid: { color: '#26313c' },
            },
            y: {
              type: 'linear',
              ...(metric === 'accuracy' ? { suggestedMin: 80, max: 100 } : { min: 0 }),
              ticks: { color: '#8b98a5' },
              grid: { color: '#26313c' },
            },
          },
          plugins: {
            legend: { labels: { color: '#e6e9ec' } },
            tooltip: { mode: 'nearest', intersect: false },
          },
        },
      });
    this.charts = { loss: make(lossCanvas, 'loss'), accuracy: make(accCanvas, 'accuracy') };
  }

  /** Sets the shared x range (epochs). */
  setXMax(xMax: number): void {
    this.xMax = xMax;
    this.schedule();
  }

  /** Redraws at most once per animation frame, however often logs arrive. */
  schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      for (const metric of ['loss', 'accuracy'] as const) {
        const chart = this.charts[metric];
        chart.data.datasets = chartDatasets(this.curves, metric);
        const x = chart.options.scales?.x;
        if (x) x.max = this.xMax;
        chart.update('none');
      }
    });
  }
}
