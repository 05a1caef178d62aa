import { existsSync } from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { cpuInfo, simdFlags } from './cpu-info.js';

describe('cpuInfo', () => {
  it('keeps the SIMD and FMA flags of a cpuinfo flags line, once each, sorted', () => {
    const text =
      'processor\t: 0\nflags\t\t: fpu sse sse2 fma avx2 avx512f avx512_vnni aes sse2\nbogomips\t: 5200\n';
    expect(simdFlags(text)).toEqual(['avx2', 'avx512_vnni', 'avx512f', 'fma', 'sse', 'sse2']);
    expect(simdFlags('Features\t: fp asimd evtstrm aes sve\n')).toEqual(['asimd', 'sve']);
    expect(simdFlags('no flags here')).toEqual([]);
  });

  it("reports this machine's model, cores and, on Linux, its flags", () => {
    const info = cpuInfo();
    expect(info.cpu).toBe(os.cpus()[0]?.model.trim());
    expect(info.cores).toBeGreaterThan(0);
    if (existsSync('/proc/cpuinfo') && os.arch() === 'x64') expect(info.cpuFlags).toContain('sse2');
  });
});
