import { CommanderError } from 'commander';
import { exitCodeFor, formatError } from './exit-code.js';
import { type Io, processIo } from './io.js';
import { createProgram } from './program.js';

/**
 * Runs the `distill` command line on `argv` (without the node and script entries) and resolves to the
 * exit code: 0 success, 1 a failure while running, 2 bad usage or bad input, 130 interrupted.
 * Errors are printed as one line on stderr (with the stack under `--verbose`).
 */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const program = createProgram(io);
  const verbose = argv.includes('--verbose');
  if (argv.length === 0) {
    program.outputHelp();
    return 2;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    const code = exitCodeFor(error);
    // commander has already printed its own one-line message
    if (!(error instanceof CommanderError)) io.stderr.write(`${formatError(error, verbose)}\n`);
    return code;
  }
}
