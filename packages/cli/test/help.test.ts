import { describe, expect, it } from 'vitest';
import { runCli } from '@chorus/cli';

const COMMANDS = [
  ['sidecar'],
  ['zone', 'define'],
  ['zone', 'model'],
  ['signer', 'add'],
  ['signer', 'remove'],
  ['migrate'],
  ['bootstrap'],
  ['stop'],
  ['undo'],
  ['roll'],
  ['status'],
  ['events'],
  ['stats'],
  ['report'],
  ['query'],
  ['audit'],
  ['serve'],
  ['token'],
  ['demo'],
  ['lab', 'up'],
  ['lab', 'status'],
  ['lab', 'restart'],
  ['lab', 'down'],
  ['lab', 'registry-agent'],
];

async function help(command: string[]): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await runCli([...command, '--help'], {
    stdout: (chunk) => void (text += chunk),
    stderr: (chunk) => void (text += chunk),
  });
  return { code, text };
}

describe('--help', () => {
  it.each(COMMANDS)('has a text of its own for "%s %s"', async (...command) => {
    const { code, text } = await help(command);
    expect(code).toBe(0);
    expect(text.split('\n')[0]).toMatch(new RegExp(`^Usage: chorus ${command.join(' ')}\\b`));
  });

  it('gives every command a different text', async () => {
    const texts = await Promise.all(COMMANDS.map(async (command) => (await help(command)).text));
    expect(new Set(texts).size).toBe(COMMANDS.length);
  });

  it("explains how --max-zone-ttl and --record-ttl relate to the zone's TTLs", async () => {
    const { text } = await help(['zone', 'define']);
    expect(text).toContain('--max-zone-ttl is TTLsig, the largest TTL');
    expect(text).toContain('negative answers');
    expect(text).toContain('--record-ttl is the TTL Chorus gives the records it adds');
  });

  it('lists every command in the main help', async () => {
    const { text } = await help([]);
    for (const command of COMMANDS) expect(text).toContain(`  ${command.join(' ')}`);
  });
});
