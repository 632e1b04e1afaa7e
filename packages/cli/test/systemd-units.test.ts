/**
 * The systemd units in contrib/systemd: systemd's own parser accepts them (with ExecStart
 * pointing at this checkout's CLI), they run commands the CLI knows, and they keep the hardening.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '@chorus/cli';

const run = promisify(execFile);
const UNITS = new URL('../../../contrib/systemd/', import.meta.url);
const UNITS_TESTED = [
  ['chorus-sidecar@.service', 'chorus-sidecar@bind.service'],
  ['chorus-serve.service', 'chorus-serve.service'],
] as const;
const directories: string[] = [];
afterAll(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

const HARDENING = [
  'NoNewPrivileges=yes',
  'ProtectSystem=strict',
  'ProtectHome=yes',
  'PrivateTmp=yes',
  'CapabilityBoundingSet=',
  'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
  'SystemCallFilter=@system-service',
];

describe('the systemd units', () => {
  it.each(UNITS_TESTED)('%s passes systemd-analyze verify', async (unit, instance) => {
    const text = await readFile(new URL(unit, UNITS), 'utf8');
    const directory = await mkdtemp(path.join(tmpdir(), 'chorus-units-'));
    directories.push(directory);
    // An instance name, an ExecStart that exists on this machine, and its EnvironmentFile.
    const environment = path.join(directory, 'serve.env');
    await writeFile(environment, 'CHORUS_TOKENS=/dev/null\n');
    const file = path.join(directory, instance);
    await writeFile(
      file,
      text
        .replace('/usr/local/bin/chorus', process.execPath)
        .replace('/etc/chorus/serve.env', environment),
    );
    const { stdout, stderr } = await run('systemd-analyze', ['verify', file]);
    expect(`${stdout}${stderr}`.trim()).toBe('');
  });

  it('a broken unit is refused by the same check (the control)', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'chorus-units-'));
    directories.push(directory);
    const file = path.join(directory, 'chorus-sidecar@bind.service');
    await writeFile(file, '[Service]\nExecStart=relative/chorus\n');
    const result = await run('systemd-analyze', ['verify', file]).catch(
      (error: { stdout: string; stderr: string }) => error,
    );
    expect(`${result.stdout}${result.stderr}`).toMatch(/ExecStart|absolute|executable/i);
  });

  it.each(UNITS_TESTED)(
    '%s keeps its hardening, and starts a command the CLI documents',
    async (unit) => {
      const text = await readFile(new URL(unit, UNITS), 'utf8');
      for (const line of HARDENING) expect(text.split('\n')).toContain(line);
      const command = /^ExecStart=\S+ (\S+) (--\S+)/m.exec(text)!;
      let help = '';
      await runCli([command[1]!, '--help'], { stdout: (t) => void (help += t), stderr: () => {} });
      expect(help).toContain(command[2]);
    },
  );
});
