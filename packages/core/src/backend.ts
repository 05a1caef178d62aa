/** What a caller may ask for; `auto` picks the fastest installed backend. */
export const BACKEND_REQUESTS = [
  'auto',
  'tensorflow-gpu',
  'tensorflow',
  'wasm',
  'cpu',
  'webgl',
  'webgpu',
] as const;

/** A backend request: `auto` or one named backend. */
export type BackendRequest = (typeof BACKEND_REQUESTS)[number];

/** A concrete backend distilljs can run on. */
export type BackendName = Exclude<BackendRequest, 'auto'>;

/** One candidate considered by backend selection, and why it was or was not taken. */
export interface BackendAttempt {
  readonly backend: BackendName;
  readonly ok: boolean;
  readonly reason: string;
}

/** The result of selecting a backend: which one runs and why. */
export interface BackendSelection {
  /** What was asked for. */
  readonly requested: BackendRequest;
  /** What runs. */
  readonly backend: BackendName;
  /** The name tfjs knows it by (`tensorflow` for both tfjs-node flavours, `wasm`, `cpu`, ...). */
  readonly tfjsName: string;
  /** One sentence: why this backend. */
  readonly reason: string;
  /** Every candidate tried, in order. */
  readonly attempts: readonly BackendAttempt[];
}

/** True for a string that names a backend request. */
export function isBackendRequest(value: unknown): value is BackendRequest {
  return typeof value === 'string' && (BACKEND_REQUESTS as readonly string[]).includes(value);
}
