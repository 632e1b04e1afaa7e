/**
 * The audit as a whole: bad input is refused with a typed error, a parent server nobody answers
 * on is a failure row (not a crash), and the report reads as text and as JSON.
 */
import { describe, expect, it } from 'vitest';
import { AuditInputError, evaluateAudit, formatAuditReport, runAudit } from '../src/index.js';
import { NS_A, observe, world } from './helpers/world.js';

// Nothing listens here: the scenario prefix of this package, with no lab running in unit tests.
const NOBODY = { address: '127.87.0.250', port: 53 };

describe('runAudit', () => {
  it('refuses a zone outside its parent and an empty parent server list, not retryable', async () => {
    const outside = runAudit({
      zone: 'example.org.',
      parentZone: 'test.',
      parentServers: [NOBODY],
    });
    await expect(outside).rejects.toSatisfy(
      (error) => AuditInputError.isInstance(error) && !error.isRetryable,
    );
    const none = runAudit({ zone: 'example.test.', parentZone: 'test.', parentServers: [] });
    await expect(none).rejects.toThrow('at least one parent server');
  });

  it('reports a parent server that does not answer as a failing row', async () => {
    const report = await runAudit({
      zone: 'example.test',
      parentZone: 'test',
      parentServers: [NOBODY],
      timeoutMs: 500,
      retries: 0,
    });
    expect(report.status).toBe('fail');
    const reachable = report.checks.find((check) => check.id === 'reachable')!;
    expect(reachable).toMatchObject({ status: 'fail', servers: ['127.87.0.250:53'] });
    expect(reachable.details[0]!.message).toMatch(
      /^parent server 127\.87\.0\.250:53 is unreachable/,
    );
    expect(report.servers.parent).toEqual([
      { server: '127.87.0.250:53', status: 'unreachable', error: expect.any(String) },
    ]);
    expect(report.checks.filter((check) => check.status === 'fail')).toHaveLength(1);
  });

  it('asks only the family asked for: no IPv6 parent server with family 4', async () => {
    const report = await runAudit({
      zone: 'example.test.',
      parentZone: 'test.',
      parentServers: [{ address: '::1', port: 53 }],
      family: 4,
    });
    const reachable = report.checks.find((check) => check.id === 'reachable')!;
    expect(reachable.details.map((finding) => finding.message)).toEqual([
      'no parent server was asked',
    ]);
    expect(report.servers.parent).toEqual([]);
  });
});

describe('the report', () => {
  it('prints one line per check, findings below the failing ones, and a verdict', () => {
    const w = world();
    w.b.ns = [NS_A];
    const text = formatAuditReport(evaluateAudit(observe(w)));
    const lines = text.split('\n');
    expect(lines[0]).toMatch(
      /^audit of example\.test\. \(parent test\.\) at .*: 1\/1 parent servers and 3\/3 child addresses answered$/,
    );
    expect(lines.filter((line) => /^(PASS|WARN|FAIL) {2}/.test(line))).toHaveLength(8);
    expect(text).toContain('FAIL  ns-agree');
    expect(text).toContain('      servers: 198.51.100.1:53, 192.0.2.53:53');
    expect(lines.at(-2)).toBe('FAIL: 7 passed, 0 warned, 1 failed');
  });

  it('survives a JSON round trip', () => {
    const report = evaluateAudit(observe(world()));
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    expect(Object.keys(report)).toEqual([
      'zone',
      'parentZone',
      'observedAt',
      'status',
      'servers',
      'checks',
    ]);
  });
});
