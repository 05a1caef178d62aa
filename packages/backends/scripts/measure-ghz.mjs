// The clock of this host's cores, for the benchmarks' peak FLOP/s (gemm-bench.mjs, conv-bench.mjs).

/** Cycles per second, from a dependent chain of `imul; or` (4 cycles each), on the CPU-time clock. */
export function measureGhz() {
  const chain = (n, x0) => {
    let x = x0;
    for (let i = 0; i < n; i++) {
      x = Math.imul(x, x) | 1;
      x = Math.imul(x, x) | 1;
      x = Math.imul(x, x) | 1;
      x = Math.imul(x, x) | 1;
    }
    return x;
  };
  chain(1e6, 3);
  const rates = [];
  for (let r = 0; r < 5; r++) {
    const n = 2e7;
    const u0 = process.cpuUsage();
    if (chain(n, 3 + r) === 0) throw new Error('unreachable');
    const u = process.cpuUsage(u0);
    rates.push((n * 16) / ((u.user + u.system) * 1000));
  }
  return rates.sort((a, b) => a - b)[2];
}
