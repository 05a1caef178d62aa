import { describe, expect, it } from 'vitest';
import { isSoftwareRenderer, probeBrowserWebGpu, probeWebGlRenderer } from './browser-gpu.js';

describe('isSoftwareRenderer', () => {
  it('calls the renderers of CPU rasterisers software, and GPUs not', () => {
    // Debian Chromium 1xx headless on a machine without a GPU (read through WEBGL_debug_renderer_info).
    expect(
      isSoftwareRenderer(
        'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)',
      ),
    ).toBe(true);
    expect(isSoftwareRenderer('llvmpipe (LLVM 15.0.6, 256 bits)')).toBe(true);
    expect(isSoftwareRenderer('ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11)')).toBe(true);
    expect(isSoftwareRenderer('ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 Direct3D11 vs_5_0 ps_5_0)')).toBe(
      false,
    );
    expect(isSoftwareRenderer('Apple M2')).toBe(false);
  });
});

describe('probeBrowserWebGpu', () => {
  it('says in words that there is no adapter instead of failing later in tfjs', async () => {
    expect(await probeBrowserWebGpu(undefined)).toEqual({
      ok: false,
      reason: 'this browser has no WebGPU (navigator.gpu is missing)',
    });
    const none = await probeBrowserWebGpu({ requestAdapter: async () => null });
    expect(none).toMatchObject({ ok: false, reason: expect.stringContaining('offers no adapter') });
  });

  it('describes the adapter it gets, software or not', async () => {
    const swiftshader = {
      info: { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader driver' },
    };
    const probe = await probeBrowserWebGpu({ requestAdapter: async () => swiftshader });
    expect(probe).toMatchObject({ ok: true, report: { vendor: 'google', software: true } });
  });
});

describe('probeWebGlRenderer', () => {
  it('reads the unmasked renderer and releases the context', () => {
    let lost = false;
    const gl = {
      RENDERER: 0x1f01,
      getExtension: (name: string) =>
        name === 'WEBGL_debug_renderer_info'
          ? { UNMASKED_RENDERER_WEBGL: 0x9246 }
          : name === 'WEBGL_lose_context'
            ? { loseContext: () => (lost = true) }
            : null,
      getParameter: (p: number) =>
        p === 0x9246 ? 'ANGLE (Google, Vulkan (SwiftShader Device))' : 'WebKit WebGL',
    };
    expect(probeWebGlRenderer(() => ({ getContext: () => gl }))).toEqual({
      renderer: 'ANGLE (Google, Vulkan (SwiftShader Device))',
      software: true,
    });
    expect(lost).toBe(true);
    expect(probeWebGlRenderer(() => ({ getContext: () => null }))).toBeUndefined();
  });
});
