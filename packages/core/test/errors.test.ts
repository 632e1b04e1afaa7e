// The typed errors: names, the marker-based isInstance (which survives duplicate package copies),
// and which faults are retryable.
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  ApiCallError,
  ChorusError,
  ConfigError,
  ConvergenceError,
  DnsNetworkError,
  DnsResponseError,
  DnsTimeoutError,
  DnsWireError,
  EventLogError,
  InvalidNameError,
  ParentAnswerError,
  ParentServerUnreachableError,
  PresentationParseError,
  SecretInEventError,
  SignerCommandError,
  SignerConfigurationError,
  TsigError,
  UnsafePlanError,
  UnsupportedCapabilityError,
  WrongExpectedVersionError,
} from '../src/index.js';

interface ErrorClass {
  name: string;
  isInstance(error: unknown): boolean;
}

const cause = new Error('the underlying fault');

/** One instance of every typed error, with its class, name and whether it is retryable. */
const cases: [ErrorClass, ChorusError, string, boolean][] = [
  [
    DnsTimeoutError,
    new DnsTimeoutError({ server: '192.0.2.1#53', timeoutMs: 500, attempts: 3, what: 'SOA?' }),
    'Chorus_DnsTimeoutError',
    true,
  ],
  [
    DnsNetworkError,
    new DnsNetworkError({ server: '192.0.2.1#53', code: 'ECONNREFUSED', what: 'SOA?', cause }),
    'Chorus_DnsNetworkError',
    true,
  ],
  [DnsWireError, new DnsWireError('truncated header'), 'Chorus_DnsWireError', false],
  [
    DnsResponseError,
    new DnsResponseError({ server: '192.0.2.1#53', rcode: 'REFUSED', what: 'UPDATE' }),
    'Chorus_DnsResponseError',
    false,
  ],
  [
    TsigError,
    new TsigError({
      failure: 'BADSIG',
      keyName: 'k.',
      side: 'server-rejected-request',
      server: '192.0.2.1#53',
    }),
    'Chorus_TsigError',
    false,
  ],
  [AbortError, new AbortError('reading the apex', cause), 'Chorus_AbortError', false],
  [
    PresentationParseError,
    new PresentationParseError('bad TTL', 'x IN 3600x A 192.0.2.1'),
    'Chorus_PresentationParseError',
    false,
  ],
  [InvalidNameError, new InvalidNameError('a..b', 'empty label'), 'Chorus_InvalidNameError', false],
  [
    WrongExpectedVersionError,
    new WrongExpectedVersionError({ stream: 'zone/a.', expected: 1, actual: 2 }),
    'Chorus_WrongExpectedVersionError',
    true,
  ],
  [EventLogError, new EventLogError('closed', 'the log is closed'), 'Chorus_EventLogError', false],
  [
    SecretInEventError,
    new SecretInEventError('events[0].tsigSecret'),
    'Chorus_SecretInEventError',
    false,
  ],
  [
    ParentServerUnreachableError,
    new ParentServerUnreachableError({ server: '192.0.2.9#53', zone: 'a.test.', cause }),
    'Chorus_ParentServerUnreachableError',
    true,
  ],
  [
    ParentAnswerError,
    new ParentAnswerError({
      server: '192.0.2.9#53',
      zone: 'a.test.',
      problem: 'not-authoritative',
      detail: 'no AA bit',
    }),
    'Chorus_ParentAnswerError',
    false,
  ],
  [
    UnsupportedCapabilityError,
    new UnsupportedCapabilityError({ capability: 'csync-publish', signerId: 'ns1' }),
    'Chorus_UnsupportedCapabilityError',
    false,
  ],
  [
    SignerConfigurationError,
    new SignerConfigurationError({
      signerId: 'ns1',
      setting: 'dnssec-policy',
      problem: 'inline signing is off',
      fix: 'turn it on',
    }),
    'Chorus_SignerConfigurationError',
    false,
  ],
  [
    SignerCommandError,
    new SignerCommandError({ command: ['rndc', 'reload'], exitCode: 1, stderr: 'no zone' }),
    'Chorus_SignerCommandError',
    false,
  ],
  [
    ApiCallError,
    new ApiCallError({ url: 'https://api.test/zones', method: 'PATCH', statusCode: 503 }),
    'Chorus_ApiCallError',
    true,
  ],
  [
    ConvergenceError,
    new ConvergenceError({ zone: 'a.test.', signerId: 'ns1', remaining: 2, detail: 'CDS' }),
    'Chorus_ConvergenceError',
    true,
  ],
  [UnsafePlanError, new UnsafePlanError('empty NS set'), 'Chorus_UnsafePlanError', false],
  [
    ConfigError,
    new ConfigError({ key: 'server', problem: 'missing', source: 'bind.json' }),
    'Chorus_ConfigError',
    false,
  ],
];

describe('typed errors', () => {
  it('are Errors and ChorusErrors, with a stable name and the documented retryability', () => {
    for (const [, error, name, retryable] of cases) {
      expect(error).toBeInstanceOf(Error);
      expect(ChorusError.isInstance(error)).toBe(true);
      expect([name, error.name, error.isRetryable]).toEqual([name, name, retryable]);
      expect(error.message.length).toBeGreaterThan(0);
    }
  });

  it('each isInstance recognises its own class only', () => {
    for (const [errorClass, , name] of cases) {
      const recognised = cases.filter(([, error]) => errorClass.isInstance(error));
      expect([name, recognised.map(([, , other]) => other)]).toEqual([name, [name]]);
    }
  });

  it('isInstance works across duplicate package copies (a global symbol marker)', () => {
    const fromAnotherCopy = Object.assign(new Error('from another copy'), {
      [Symbol.for('chorus.error')]: true,
      [Symbol.for('chorus.error.Chorus_TsigError')]: true,
    });
    expect(ChorusError.isInstance(fromAnotherCopy)).toBe(true);
    expect(TsigError.isInstance(fromAnotherCopy)).toBe(true);
    expect(DnsWireError.isInstance(fromAnotherCopy)).toBe(false);
  });

  it('isInstance refuses anything without the marker', () => {
    const impostors: unknown[] = [
      new Error('plain'),
      { name: 'Chorus_TsigError', isRetryable: false },
      { [Symbol.for('chorus.error')]: 'yes' },
      null,
      undefined,
      'Chorus_TsigError',
      42,
    ];
    for (const impostor of impostors) {
      expect(ChorusError.isInstance(impostor)).toBe(false);
      expect(TsigError.isInstance(impostor)).toBe(false);
    }
  });

  it('keep the cause when given one, and have none otherwise', () => {
    expect(new DnsNetworkError({ server: 's', what: 'q', cause }).cause).toBe(cause);
    expect(new AbortError('x', cause).cause).toBe(cause);
    expect(new EventLogError('storage', 'disk full', { cause }).cause).toBe(cause);
    expect(Object.hasOwn(new DnsWireError('x'), 'cause')).toBe(false);
  });
});

describe('retryability', () => {
  it('DNS: SERVFAIL may clear, other rcodes and TSIG failures (BADTIME too) do not', () => {
    const rcode = (value: 'SERVFAIL' | 'REFUSED' | 'NOTAUTH') =>
      new DnsResponseError({ server: 's', rcode: value, what: 'UPDATE' }).isRetryable;
    expect([rcode('SERVFAIL'), rcode('REFUSED'), rcode('NOTAUTH')]).toEqual([true, false, false]);
    const tsig = (failure: 'BADTIME' | 'BADSIG' | 'BADKEY') =>
      new TsigError({ failure, keyName: 'k.', side: 'response-verification', server: 's' })
        .isRetryable;
    expect([tsig('BADTIME'), tsig('BADSIG'), tsig('BADKEY')]).toEqual([false, false, false]);
  });

  it('HTTP: not sent, 408, 409, 429 and 5xx are retryable; 4xx are not', () => {
    const retryable = (statusCode?: number) =>
      new ApiCallError({ url: 'https://api.test/', method: 'GET', statusCode }).isRetryable;
    expect([undefined, 408, 409, 429, 500, 502, 503].map(retryable)).toEqual(
      Array.from({ length: 7 }, () => true),
    );
    expect([400, 401, 403, 404, 422].map(retryable)).toEqual(
      Array.from({ length: 5 }, () => false),
    );
    const limited = new ApiCallError({
      url: 'https://api.test/',
      method: 'GET',
      statusCode: 429,
      retryAfterSeconds: 7,
      responseBody: ` ${'x'.repeat(3000)} `,
    });
    expect(limited.retryAfterSeconds).toBe(7);
    expect(limited.statusCode).toBe(429);
    expect(limited.responseBody).toHaveLength(2000);
  });

  it('commands: retryable when they timed out, or when the caller says so', () => {
    const timedOut = new SignerCommandError({ command: ['knotc'], stderr: '', timedOut: true });
    expect([timedOut.isRetryable, timedOut.message]).toEqual([true, 'knotc failed (timed out)']);
    const failed = new SignerCommandError({ command: ['knotc'], exitCode: 2, stderr: ' busy \n' });
    expect([failed.isRetryable, failed.message, failed.stderr]).toEqual([
      false,
      'knotc failed (exit 2): busy',
      'busy',
    ]);
    const flagged = new SignerCommandError({
      command: ['knotc'],
      exitCode: 1,
      stderr: 'busy',
      retryable: true,
    });
    expect(flagged.isRetryable).toBe(true);
  });

  it('event log: only busy is retryable unless stated otherwise', () => {
    const kinds = ['closed', 'busy', 'storage', 'corrupt', 'schema', 'invalid-argument'] as const;
    expect(kinds.map((kind) => new EventLogError(kind, kind).isRetryable)).toEqual([
      false,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(new EventLogError('storage', 'x', { isRetryable: true }).isRetryable).toBe(true);
    expect(new EventLogError('busy', 'x', { isRetryable: false }).isRetryable).toBe(false);
  });

  it('parent answers: retryable only when the caller says so (SERVFAIL)', () => {
    const answer = (retryable?: boolean) =>
      new ParentAnswerError({ server: 's', zone: 'a.', problem: 'rcode', detail: 'd', retryable })
        .isRetryable;
    expect([answer(), answer(false), answer(true)]).toEqual([false, false, true]);
  });
});

describe('messages', () => {
  it('name what went wrong and never a secret value', () => {
    const secret = new SecretInEventError('events[1].signer.tsigSecret');
    expect(secret.path).toBe('events[1].signer.tsigSecret');
    expect(secret.message).toContain('events[1].signer.tsigSecret');
    const wrong = new WrongExpectedVersionError({ stream: 'zone/a.', expected: 1, actual: 2 });
    expect(wrong).toMatchObject({ stream: 'zone/a.', expected: 1, actual: 2 });
    expect(wrong.message).toContain('"zone/a."');
    const config = new ConfigError({ key: 'tsig.secretFile', problem: 'missing' });
    expect([config.key, config.message]).toEqual(['tsig.secretFile', 'tsig.secretFile: missing']);
    const parse = new PresentationParseError('bad', 'y'.repeat(300));
    expect(parse.message).toBe(`bad: ${'y'.repeat(200)}…`);
    expect(parse.input).toHaveLength(300);
  });
});
