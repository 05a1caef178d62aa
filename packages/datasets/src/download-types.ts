/** Progress of one file's download, reported as bytes arrive. */
export interface DownloadProgress {
  readonly url: string;
  /** Where the file is written (Node) or the file name (browser). */
  readonly file: string;
  /** Bytes of the file present so far (including any resumed part). */
  readonly receivedBytes: number;
  /** Size of the whole file when the server says it, else undefined. */
  readonly totalBytes: number | undefined;
  /** True once, when the file is complete and verified. */
  readonly done: boolean;
}

/** Receives {@link DownloadProgress} reports. */
export type ProgressCallback = (progress: DownloadProgress) => void;

/** The subset of `fetch` the loaders use; inject one to test or to add authentication or a proxy. */
export type FetchLike = (
  url: string,
  init?: { headers?: Record<string, string>; signal?: AbortSignal },
) => Promise<Response>;
