import { readFileSync } from 'node:fs';
import os from 'node:os';

/** The CPU a benchmark ran on, as `distill bench --json` reports it with every row. */
export interface CpuInfo {
  /** Model name, as the OS reports it (`os.cpus()[0].model`, lscpu's "Model name"). */
  readonly cpu: string;
  /** Logical cores Node can use. */
  readonly cores: number;
  /**
   * The instruction-set flags that decide SIMD speed (SSE, AVX, AVX-512, FMA, AMX on x86; ASIMD, SVE on
   * Arm), from `/proc/cpuinfo`; empty where that file is missing (not Linux).
   */
  readonly cpuFlags: readonly string[];
}

const SIMD_FLAG = /^(sse|ssse|avx|fma|f16c|amx|asimd|sve|neon)/;

/** The `flags` (x86) or `Features` (Arm) line of /proc/cpuinfo's text, filtered to the SIMD ones. */
export function simdFlags(cpuinfo: string): string[] {
  const line = cpuinfo.split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
  if (line === undefined) return [];
  const flags = line
    .slice(line.indexOf(':') + 1)
    .trim()
    .split(/\s+/);
  return [...new Set(flags.filter((f) => SIMD_FLAG.test(f)))].sort();
}

/** This machine's {@link CpuInfo}. */
export function cpuInfo(): CpuInfo {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux: no flags
  }
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return { cpu: os.cpus()[0]?.model.trim() ?? 'unknown', cores, cpuFlags: simdFlags(text) };
}
