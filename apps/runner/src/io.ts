/** Where a command writes: results to `stdout`, progress and notes to `stderr`. */
export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** The process's own streams. */
export const processIo: Io = { stdout: process.stdout, stderr: process.stderr };

/** Writes a line to a stream. */
export function println(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`);
}
