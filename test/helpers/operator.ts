/** The operator's side in scenario tests: `chorus …` on a lab's log, and waiting for a state. */
import path from 'node:path';
import { runCli, trustKitAt, type CliIo } from '@chorus/cli';

/** `chorus …` with the lab's log and the operator's trust and key; output and exit code. */
export async function chorusOnLog(sqliteFile: string, args: string[]) {
  const kit = trustKitAt(path.dirname(sqliteFile));
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
  };
  const code = await runCli(
    [...args, '--log', sqliteFile, '--trust', kit.trustFile, '--key', kit.operatorKeyFile],
    io,
  );
  return { code, stdout, stderr };
}

/**
 * `probe()` every half second until it returns a value, at most 90 s; `explain()` adds what the
 * timeout message should show.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  explain: () => Promise<string> = () => Promise.resolve(''),
): Promise<T> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${await explain()}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
