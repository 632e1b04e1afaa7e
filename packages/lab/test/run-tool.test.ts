import { describe, expect, it } from 'vitest';
import { runTool } from '../src/commands.js';

describe('runTool keeps secrets out of its errors', () => {
  it('names the failing command with each secret masked', async () => {
    const failing = runTool('/bin/sh', ['-c', 'exit 3', 'sh', '--pin', 'pin-2468'], {
      secrets: ['pin-2468'],
    });
    await expect(failing).rejects.toThrow(/sh -c exit 3 sh --pin \*\*\* failed with exit code 3/);
    await expect(failing).rejects.not.toThrow(/pin-2468/);
  });

  it('shows the arguments when none is secret (negative control)', async () => {
    await expect(runTool('/bin/sh', ['-c', 'exit 3', 'sh', 'pin-2468'])).rejects.toThrow(
      /pin-2468/,
    );
  });
});
