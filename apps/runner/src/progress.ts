import type { Logs, TrainBeginInfo, TrainingCallbacks } from '@distilljs/core';
import cliProgress from 'cli-progress';

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Shown before the bar: `teacher (seed 1)`. */
  readonly label: string;
  /** Where to draw (default `process.stderr`). */
  readonly stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Force plain lines (default: plain when the stream is not a TTY or `CI` is set). */
  readonly plain?: boolean;
  /** Print nothing at all (`--quiet`). */
  readonly silent?: boolean;
  /** Seconds between plain progress lines within an epoch (default 15). */
  readonly plainInterval?: number;
}

function fmt(v: number | undefined, digits = 4): string {
  return v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

/** Whether progress should be drawn as a live bar on `stream`. */
export function isInteractive(stream: NodeJS.WritableStream = process.stderr): boolean {
  const ci = process.env.CI;
  return Boolean((stream as NodeJS.WriteStream).isTTY) && !(ci && ci !== '0' && ci !== 'false');
}

function lossParts(logs: Logs): string {
  const parts = [`loss ${fmt(logs.loss)}`];
  if (logs.softLoss !== undefined) parts.push(`soft ${fmt(logs.softLoss)}`);
  if (logs.hardLoss !== undefined) parts.push(`hard ${fmt(logs.hardLoss)}`);
  return parts.join(' ');
}

/**
 * Training callbacks that show progress: a live bar with ETA, the loss and its soft and hard parts and
 * the throughput on a terminal; one plain line per epoch (and every `plainInterval` seconds) otherwise.
 */
export function createProgress(options: ProgressOptions): TrainingCallbacks {
  const stream = options.stream ?? process.stderr;
  const plain = options.plain ?? !isInteractive(stream);
  const interval = (options.plainInterval ?? 15) * 1000;
  let bar: cliProgress.SingleBar | undefined;
  let total = 0;
  let epochs = 0;
  let stepsPerEpoch = 0;
  let lastLine = 0;
  let step = 0;
  let started = 0;
  let startStep = 0;
  let batchStart = 0;
  const seen = new Set<string>();
  let throughput = 0;
  const say = (line: string) => {
    if (!options.silent) stream.write(`${line}\n`);
  };
  const eta = (): string => {
    const done = step - startStep;
    if (done <= 0) return '?';
    const secs = (((Date.now() - started) / done) * (total - step)) / 1000;
    return secs < 60
      ? `${Math.round(secs)}s`
      : `${Math.floor(secs / 60)}m${String(Math.round(secs % 60)).padStart(2, '0')}s`;
  };
  return {
    onTrainBegin(info: TrainBeginInfo) {
      epochs = info.epochs;
      stepsPerEpoch = info.stepsPerEpoch;
      total = info.epochs * info.stepsPerEpoch;
      step = info.initialStep;
      startStep = info.initialStep;
      started = Date.now();
      lastLine = started;
      const resumed = info.initialStep > 0 ? `, resuming at step ${info.initialStep}` : '';
      say(`${options.label}: ${info.epochs} epochs x ${info.stepsPerEpoch} steps${resumed}`);
      for (const note of info.notes) {
        if (!seen.has(note)) say(`  ${note}`);
        seen.add(note);
      }
      if (!plain && !options.silent) {
        bar = new cliProgress.SingleBar(
          {
            stream: stream as NodeJS.WriteStream,
            format: `  {bar} {percentage}% | {value}/{total} | ETA {eta_formatted} | ep {ep} | {loss} | {sps} samples/s`,
            barsize: 24,
            hideCursor: true,
            clearOnComplete: false,
            etaBuffer: 50,
            fps: 5,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, info.initialStep, {
          ep: `${info.initialEpoch + 1}/${epochs}`,
          loss: 'loss -',
          sps: '-',
        });
      }
    },
    onBatchBegin() {
      if (batchStart === 0) batchStart = performance.now();
    },
    onBatchEnd(s: number, logs: Logs) {
      step = s + 1;
      const now = performance.now();
      if (batchStart > 0 && logs.size !== undefined) {
        const rate = logs.size / Math.max((now - batchStart) / 1000, 1e-6);
        throughput = throughput === 0 ? rate : 0.9 * throughput + 0.1 * rate;
      }
      batchStart = now;
      const measured = logs.samplesPerSec ?? (throughput > 0 ? throughput : undefined);
      const sps = measured === undefined ? '-' : Math.round(measured).toString();
      const ep = `${Math.min(epochs, Math.floor(s / Math.max(1, stepsPerEpoch)) + 1)}/${epochs}`;
      if (bar) {
        bar.update(step, { ep, loss: lossParts(logs), sps });
      } else if (Date.now() - lastLine >= interval) {
        lastLine = Date.now();
        say(`  step ${step}/${total} (epoch ${ep}) ${lossParts(logs)} | ${sps} samples/s | ETA ${eta()}`);
      }
    },
    onEpochBegin() {
      batchStart = 0;
    },
    onEpochEnd(epoch: number, logs: Logs) {
      const held = [
        logs.val_acc !== undefined ? `val acc ${fmt(logs.val_acc)}` : '',
        logs.val_loss !== undefined ? `val loss ${fmt(logs.val_loss)}` : '',
        logs.samplesPerSec !== undefined ? `${Math.round(logs.samplesPerSec)} samples/s` : '',
      ].filter(Boolean);
      const line = `  epoch ${epoch + 1}/${epochs}: ${lossParts(logs)}${logs.acc !== undefined ? ` acc ${fmt(logs.acc)}` : ''}${held.length ? ` | ${held.join(' | ')}` : ''}`;
      if (bar) {
        bar.stop();
        say(line);
        if (epoch + 1 < epochs) {
          bar.start(total, step, { ep: `${epoch + 2}/${epochs}`, loss: lossParts(logs), sps: '-' });
        } else {
          bar = undefined;
        }
      } else {
        lastLine = Date.now();
        say(`${line} | ETA ${eta()}`);
      }
    },
    onTrainEnd() {
      bar?.stop();
      bar = undefined;
    },
    onMessage(message: string) {
      // checkpoint writes are routine (listed in the run record); repeated notes are said once
      if (/^checkpoint\b/.test(message) || seen.has(message)) return;
      seen.add(message);
      if (bar) {
        bar.stop();
        say(`  ${message}`);
        bar.start(total, step);
      } else {
        say(`  ${message}`);
      }
    },
  };
}
