import { describe, expect, it } from 'vitest';
import { adapterPhrase, describeAdapter } from './gpu-adapter.js';

describe('describeAdapter', () => {
  it('calls SwiftShader, lavapipe and llvmpipe software, from what Dawn reports', () => {
    // What Dawn 0.6.2 reports on Chromium's SwiftShader ICD (read on this machine).
    const swiftshader = describeAdapter({
      info: {
        vendor: 'google',
        architecture: 'swiftshader',
        device: 'swiftshader-device-subzero-',
        description: 'SwiftShader driver 5.0.0',
      },
    });
    expect(swiftshader.software).toBe(true);
    expect(adapterPhrase(swiftshader)).toBe('google swiftshader (SwiftShader driver 5.0.0), software');
    expect(
      describeAdapter({ info: { vendor: 'mesa', description: 'lavapipe (LLVM 15.0.6, 256 bits)' } }).software,
    ).toBe(true);
    expect(
      describeAdapter({ info: { vendor: 'mesa', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' } }).software,
    ).toBe(true);
    expect(describeAdapter({ info: { vendor: 'x', isFallbackAdapter: true } }).software).toBe(true);
  });

  it('calls a GPU hardware', () => {
    const nvidia = describeAdapter({
      info: { vendor: 'nvidia', architecture: 'hopper', device: '', description: 'NVIDIA H100 80GB HBM3' },
    });
    expect(nvidia.software).toBe(false);
    expect(adapterPhrase(nvidia)).toBe('nvidia hopper (NVIDIA H100 80GB HBM3), hardware');
    expect(adapterPhrase(describeAdapter({}))).toBe('unnamed adapter, hardware');
  });
});
