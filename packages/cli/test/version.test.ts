import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from '@chorus/cli';

describe('chorus --version', () => {
  it.each([['--version'], ['-V']])('%s prints the package version and exits 0', async (flag) => {
    let out = '';
    const code = await runCli([flag], { stdout: (text) => void (out += text), stderr: () => {} });
    const manifest = JSON.parse(
      await readFile(new URL('../package.json', import.meta.url), 'utf8'),
    ) as { version: string };
    expect(code).toBe(0);
    expect(out).toMatch(
      new RegExp(`^chorus ${manifest.version.replace(/\./g, '\\.')} \\(Node\\.js v\\d+`),
    );
  });
});
