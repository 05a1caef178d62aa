import { invalidArgument } from './errors.js';

/** The serialisable state of an {@link Rng}, stored in checkpoints so a resumed run draws the same numbers. */
export interface RngState {
  readonly algorithm: 'sfc32';
  readonly s: readonly [number, number, number, number];
}

function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A small, fast, seeded pseudo-random generator (sfc32, seeded through splitmix32).
 *
 * One seed drives initialisation, shuffling, dropout and augmentation; `state()`/`fromState()` let a
 * checkpoint carry the exact position in the stream.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    if (typeof seed !== 'number' || !Number.isFinite(seed))
      invalidArgument('Rng', 'seed', 'a finite number', seed);
    const sm = splitmix32(Math.floor(seed) ^ Math.floor(seed / 2 ** 32));
    this.a = sm();
    this.b = sm();
    this.c = sm();
    this.d = sm();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Restores a generator from {@link Rng.state}. */
  static fromState(state: RngState): Rng {
    if (state?.algorithm !== 'sfc32' || !Array.isArray(state.s) || state.s.length !== 4) {
      invalidArgument('Rng.fromState', 'state', "an object { algorithm: 'sfc32', s: [4 numbers] }", state);
    }
    const r = new Rng(0);
    [r.a, r.b, r.c, r.d] = state.s.map((x) => x >>> 0) as [number, number, number, number];
    return r;
  }

  /** The current position in the stream, JSON-serialisable. */
  state(): RngState {
    return { algorithm: 'sfc32', s: [this.a, this.b, this.c, this.d] };
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A float uniformly distributed in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** An integer uniformly distributed in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) invalidArgument('Rng.int', 'n', 'an integer > 0', n);
    return Math.floor(this.next() * n);
  }

  /** A standard normal sample (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Shuffles an array or typed array in place (Fisher-Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A permutation of 0..n-1 as an Int32Array. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** A derived, independent generator (for a sub-task such as augmentation), reproducible from this one. */
  fork(): Rng {
    return new Rng(this.nextUint32() * 4096 + (this.nextUint32() & 0xfff));
  }
}
