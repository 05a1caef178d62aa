import { type AdapterLike, describeAdapter, type GpuAdapterReport } from './gpu-adapter.js';

/** What a browser's WebGPU offers: an adapter (described), or why there is none. */
export type BrowserWebGpuProbe =
  | { readonly ok: true; readonly report: GpuAdapterReport }
  | { readonly ok: false; readonly reason: string };

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}

/**
 * Asks the browser for a WebGPU adapter before tfjs does, so a browser that has `navigator.gpu` but no
 * adapter (headless, blocklisted GPU, WebGPU switched off) is skipped with a reason in words instead of
 * tfjs's factory throwing a TypeError (with a stack in the console) on a null adapter.
 */
export async function probeBrowserWebGpu(gpu: unknown): Promise<BrowserWebGpuProbe> {
  const g = gpu as GpuLike | undefined;
  if (!g || typeof g.requestAdapter !== 'function') {
    return { ok: false, reason: 'this browser has no WebGPU (navigator.gpu is missing)' };
  }
  let adapter: AdapterLike | null = null;
  try {
    adapter = (await g.requestAdapter({ powerPreference: 'high-performance' })) ?? (await g.requestAdapter());
  } catch (error) {
    return { ok: false, reason: `the browser refused a WebGPU adapter (${(error as Error).message})` };
  }
  if (!adapter) {
    return {
      ok: false,
      reason: 'the browser has WebGPU but offers no adapter (no usable GPU, or WebGPU is switched off)',
    };
  }
  return { ok: true, report: describeAdapter(adapter) };
}

/** The renderer behind WebGL, and whether it draws on the CPU. */
export interface WebGlRenderer {
  readonly renderer: string;
  readonly software: boolean;
}

const SOFTWARE_GL = /swiftshader|llvmpipe|softpipe|lavapipe|software|microsoft basic render|mesa offscreen/i;

/** True when a WebGL renderer string names a CPU rasteriser (SwiftShader, llvmpipe, WARP...). */
export function isSoftwareRenderer(renderer: string): boolean {
  return SOFTWARE_GL.test(renderer);
}

interface GlLike {
  readonly RENDERER: number;
  getExtension(name: string): unknown;
  getParameter(p: number): unknown;
}

/**
 * Reads the WebGL renderer through WEBGL_debug_renderer_info (the unmasked name: "ANGLE (Google,
 * Vulkan 1.3.0 (SwiftShader Device ...))"), falling back to the masked `RENDERER`. Undefined where no
 * WebGL context can be made. The probe's context is released at once.
 */
export function probeWebGlRenderer(
  makeCanvas: () => { getContext(kind: string): unknown } = () => document.createElement('canvas'),
): WebGlRenderer | undefined {
  let gl: GlLike | null = null;
  try {
    const canvas = makeCanvas();
    gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as GlLike | null;
  } catch {
    return undefined;
  }
  if (!gl) return undefined;
  const info = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number } | null;
  const renderer = String(
    (info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : undefined) ?? gl.getParameter(gl.RENDERER) ?? '',
  );
  (gl.getExtension('WEBGL_lose_context') as { loseContext(): void } | null)?.loseContext();
  return { renderer, software: isSoftwareRenderer(renderer) };
}
