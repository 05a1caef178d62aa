import type { Batch, BatchStream } from '@distilljs/core';

/**
 * @internal Serves the batches of a labelled stream in step order, cycling through its epochs: step `s`
 * gets batch `s mod B` of epoch `floor(s / B)` (B = batches per epoch). Being a function of the step, it
 * gives a resumed run the same labelled batches as an uninterrupted one.
 */
export class LabelledCursor {
  private iterator: Iterator<Batch> | AsyncIterator<Batch> | undefined;
  private epoch = -1;
  private position = 0;

  constructor(private readonly stream: BatchStream) {}

  private open(epoch: number): void {
    void this.iterator?.return?.();
    const it = this.stream.epoch(epoch) as Iterable<Batch> & AsyncIterable<Batch>;
    this.iterator =
      typeof it[Symbol.asyncIterator] === 'function' ? it[Symbol.asyncIterator]() : it[Symbol.iterator]();
    this.epoch = epoch;
    this.position = 0;
  }

  /** The labelled batch of global step `step`; the caller disposes its `xs`. */
  async at(step: number): Promise<Batch> {
    const per = this.stream.batchesPerEpoch;
    const epoch = Math.floor(step / per);
    const want = step % per;
    if (epoch !== this.epoch || want < this.position) this.open(epoch);
    for (;;) {
      const r = await this.iterator!.next();
      if (r.done) {
        // A stream shorter than batchesPerEpoch: continue with the next epoch.
        this.open(this.epoch + 1);
        continue;
      }
      const pos = this.position++;
      if (pos < want) {
        r.value.xs.dispose();
        continue;
      }
      return r.value;
    }
  }

  /** Closes the open epoch iterator. */
  close(): void {
    void this.iterator?.return?.();
    this.iterator = undefined;
    this.epoch = -1;
  }
}
