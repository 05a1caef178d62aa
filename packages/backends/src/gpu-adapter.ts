/** What a WebGPU adapter says about itself, as {@link SelectedBackend.adapter} reports it. */
export interface GpuAdapterReport {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** True for a CPU implementation: SwiftShader, lavapipe, llvmpipe, WARP, or a fallback adapter. */
  readonly software: boolean;
}

/** The subset of `GPUAdapter` read here (typed locally so the package needs no WebGPU types). */
export interface AdapterLike {
  readonly info?: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> & {
    readonly isFallbackAdapter?: boolean;
  };
  readonly isFallbackAdapter?: boolean;
}

const SOFTWARE = /swiftshader|lavapipe|llvmpipe|softpipe|software|microsoft basic render|\bwarp\b/i;

/** Reads an adapter's vendor, architecture, device and description, and whether it runs on the CPU. */
export function describeAdapter(adapter: AdapterLike): GpuAdapterReport {
  const info = adapter.info ?? {};
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const device = info.device ?? '';
  const description = info.description ?? '';
  const fallback = adapter.isFallbackAdapter === true || info.isFallbackAdapter === true;
  const software = fallback || SOFTWARE.test([vendor, architecture, device, description].join(' '));
  return { vendor, architecture, device, description, software };
}

/** `google swiftshader (SwiftShader driver 5.0.0), software`: the adapter in one phrase. */
export function adapterPhrase(report: GpuAdapterReport): string {
  const name = [report.vendor, report.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
  const detail = report.description || report.device;
  return `${name}${detail ? ` (${detail})` : ''}, ${report.software ? 'software' : 'hardware'}`;
}
