import pino from 'pino';

/** A pino logger at `level` that keeps its lines, parsed, for assertions. */
export function recordingLogger(level: pino.Level = 'warn') {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}
