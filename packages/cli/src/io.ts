/** Where the CLI writes: results to stdout, progress and errors to stderr. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** stderr is a terminal: long waits may show a status line there. */
  stderrIsTty?: boolean;
}

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  get stderrIsTty() {
    return process.stderr.isTTY;
  },
};

/** A progress callback that prefixes each line, for the lab's `onProgress`. */
export function progressTo(io: CliIo, prefix = '[lab]'): (line: string) => void {
  return (line) => io.stderr(`${prefix} ${line}\n`);
}

/**
 * `chorus status | head`: once the reader has gone (EPIPE), nothing more can be said, so exit
 * quietly with the code so far instead of crashing on the unhandled stream error.
 */
export function exitQuietlyOnClosedOutput(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}
