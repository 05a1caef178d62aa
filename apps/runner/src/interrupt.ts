import { signalExitCode } from './exit-code.js';

/** Something that can be asked to stop (the trainer's `TrainingController`). */
export interface Stoppable {
  stop(reason?: string): void;
}

/**
 * Turns the first Ctrl-C (SIGINT, or SIGTERM) into a clean stop: every registered run is asked to stop
 * after its current step, which writes a checkpoint; a second Ctrl-C exits at once with 130 (143 for
 * SIGTERM); the run record then says `interrupted` (the session's exit hook writes it).
 */
export class InterruptHandler {
  private readonly targets = new Set<Stoppable>();
  private signalled: string | undefined;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    if (this.signalled !== undefined) {
      process.stderr.write('\ndistill: stopped without finishing the checkpoint\n');
      process.exit(signalExitCode(signal));
    }
    this.signalled = signal;
    process.stderr.write(
      `\ndistill: ${signal}: stopping after the current step and writing a checkpoint (Ctrl-C again to quit at once)\n`,
    );
    for (const t of this.targets) t.stop(`interrupted by ${signal}`);
  };

  /** Starts listening for SIGINT and SIGTERM. */
  install(): this {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    return this;
  }

  /** Stops listening. */
  uninstall(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  /** The signal that arrived, if any. */
  get signal(): string | undefined {
    return this.signalled;
  }

  /** True once a signal arrived. */
  get interrupted(): boolean {
    return this.signalled !== undefined;
  }

  /** Registers a run to stop on the signal (stopped at once if the signal already came). */
  add(target: Stoppable): () => void {
    this.targets.add(target);
    if (this.signalled !== undefined) target.stop(`interrupted by ${this.signalled}`);
    return () => this.targets.delete(target);
  }
}
