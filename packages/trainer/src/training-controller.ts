/**
 * A handle to stop a run from outside (a Stop button, a signal handler, a callback): Keras'
 * `model.stopTraining`. The trainer checks it after every batch; the run then finishes the epoch's
 * bookkeeping, writes a checkpoint where it stands (when checkpointing), and returns its history.
 */
export class TrainingController {
  private requested: string | undefined;

  /** Asks the run to stop after the current batch. */
  stop(reason = 'stop requested'): void {
    this.requested ??= reason;
  }

  /** True once {@link TrainingController.stop} was called. */
  get stopRequested(): boolean {
    return this.requested !== undefined;
  }

  /** Why the run was asked to stop, if it was. */
  get reason(): string | undefined {
    return this.requested;
  }
}
