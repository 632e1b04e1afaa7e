import { parseRecord } from '@chorus/dns';
import { describe, expect, it } from 'vitest';
import { parentZoneFile } from '../src/zones.js';

const base = {
  zone: 'test.',
  ttl: 10,
  nameserverName: 'ns.test.',
  addresses: [{ name: 'ns.test.', address: '127.58.0.1' }],
  delegations: [{ zone: 'example.test.', nameserverNames: ['ns.bind.test.'], ds: [] }],
};

/** The zone file's records (owners relative to `$ORIGIN test.` or absolute). */
function records(file: string) {
  return file
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('$') && !line.startsWith('@'))
    .map((line) => parseRecord(line.replace(/^(\S+)/, '$1 10 IN'), { origin: 'test.' }));
}

describe('the lab parent zone', () => {
  it('publishes DSYNC CDS and CSYNC NOTIFY for every child, naming the scanner', () => {
    const file = parentZoneFile({
      ...base,
      dsync: { targetName: 'scanner', address: '127.58.0.9', port: 5300 },
    });
    const published = records(file).filter(
      (record) => ['DSYNC', 'A'].includes(record.type) && record.name !== 'ns.test.',
    );
    expect(published.map((record) => [record.name, record.type, record.data])).toEqual([
      ['scanner.test.', 'A', '127.58.0.9'],
      [
        '*._dsync.test.',
        'DSYNC',
        { rrtype: 'CDS', scheme: 1, port: 5300, target: 'scanner.test.' },
      ],
      [
        '*._dsync.test.',
        'DSYNC',
        { rrtype: 'CSYNC', scheme: 1, port: 5300, target: 'scanner.test.' },
      ],
    ]);
    // BIND 9.18 has no DSYNC parser: the rdata goes in the generic form.
    expect(file).toMatch(/^\*\._dsync TYPE66 \\# \d+ [0-9A-F]+$/m);
  });

  it('publishes no DSYNC without a scanner', () => {
    expect(parentZoneFile(base)).not.toMatch(/_dsync|TYPE66/);
  });
});
