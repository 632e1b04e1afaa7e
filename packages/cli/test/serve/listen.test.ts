import { describe, expect, it } from 'vitest';
import type { EventLog, ZoneEvent } from '@chorus/core';
import { parseListen } from '@chorus/cli';
import { isLoopback, startServer, type Coordination } from '@chorus/serve';

const served = { log: {} as EventLog<ZoneEvent>, path: 'unused', coordination: {} as Coordination };

describe('where chorus serve listens', () => {
  it('takes HOST:PORT and [V6]:PORT', () => {
    expect(parseListen('127.0.0.1:8053')).toEqual({ host: '127.0.0.1', port: 8053 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListen('127.0.0.1')).toThrow(/HOST:PORT/);
    expect(() => parseListen('127.0.0.1:70000')).toThrow(/HOST:PORT/);
  });

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.89.0.7', '::1', 'localhost'])
      expect(isLoopback(host)).toBe(true);
    for (const host of ['0.0.0.0', '10.0.0.1', '::', '128.0.0.1'])
      expect(isLoopback(host)).toBe(false);
  });

  it('refuses a non-loopback address without TLS', async () => {
    const options = { served, tokensFile: 'unused', host: '0.0.0.0', port: 0 };
    await expect(startServer(options)).rejects.toMatchObject({
      name: 'Chorus_InsecureListenError',
    });
  });
});
