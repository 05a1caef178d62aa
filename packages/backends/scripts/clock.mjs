// The clocks of the profiling and benchmark scripts.

/** CPU time of the whole process (every thread), in ms. */
export function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** `cpu`: {@link cpuMs}; `wall`: `performance.now()`. */
export function clockNow(clock) {
  return clock === 'cpu' ? cpuMs : () => performance.now();
}
