import { describe, expect, it } from 'vitest';
import { createTsigKey, parseTsigKeyFile, signMessage, verifyResponse } from '../src/tsig.js';
import { decodeMessage, encodeMessage } from '../src/wire.js';
import { UpdateBuilder } from '../src/update.js';
import { TsigError } from '@chorus/core';

const secret = Buffer.alloc(32, 0x5a).toString('base64');
const key = createTsigKey({ name: 'ddns', algorithm: 'hmac-sha256', secret });

function signedResponseTo(
  requestMac: Buffer,
  options: { timeSigned?: number; signingKey?: typeof key } = {},
) {
  // A response is signed over the request MAC first (RFC 8945 §5.3).
  const response = {
    ...new UpdateBuilder('example.test.').toMessage(99),
    flags: { qr: true, aa: false, tc: false, rd: false, ra: false, ad: false, cd: false },
  };
  return signMessage(encodeMessage(response), options.signingKey ?? key, {
    requestMac,
    ...(options.timeSigned ? { timeSigned: options.timeSigned } : {}),
  }).bytes;
}

describe('TSIG', () => {
  it('parses the key clause written by tsig-keygen', () => {
    const parsed = parseTsigKeyFile(
      `key "ddns" {\n\talgorithm hmac-sha512;\n\tsecret "${secret}";\n};\n`,
    );
    expect(parsed).toEqual({ name: 'ddns.', algorithm: 'hmac-sha512', secret });
  });

  it('never puts the secret in an error message', () => {
    const bad = `key "ddns" { algorithm hmac-md5; secret "${secret}"; };`;
    let message = '';
    try {
      parseTsigKeyFile(bad);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/not supported/);
    expect(message).not.toContain(secret);
    expect(() =>
      createTsigKey({ name: 'k', algorithm: 'hmac-sha256', secret: 'not base64!' }),
    ).toThrow(/not valid base64/);
  });

  it('appends a TSIG record that decodes with the key name, algorithm and original ID', () => {
    const request = encodeMessage(new UpdateBuilder('example.test.').toMessage(1234));
    const { bytes, mac } = signMessage(request, key, { timeSigned: 1_800_000_000 });
    const decoded = decodeMessage(bytes);
    expect(decoded.tsig?.keyName).toBe('ddns.');
    expect(decoded.tsig?.data).toMatchObject({
      algorithm: 'hmac-sha256.',
      timeSigned: 1_800_000_000,
      fudge: 300,
      originalId: 1234,
      error: 'NOERROR',
    });
    expect(mac).toHaveLength(32);
    expect(decoded.additionals).toHaveLength(0);
  });

  it('verifies a correctly signed response and rejects a flipped bit, a wrong key and a stale time', () => {
    const mac = signMessage(
      encodeMessage(new UpdateBuilder('example.test.').toMessage(99)),
      key,
    ).mac;
    const response = signedResponseTo(mac);
    expect(verifyResponse(response, key, mac, { server: 'test' }).id).toBe(99);

    const flipped = Buffer.from(response);
    flipped[flipped.length - 10]! ^= 0x01; // inside the MAC
    expect(() => verifyResponse(flipped, key, mac, { server: 'test' })).toThrow(TsigError);
    try {
      verifyResponse(flipped, key, mac, { server: 'test' });
    } catch (error) {
      expect((error as TsigError).failure).toBe('BADSIG');
      expect((error as TsigError).side).toBe('response-verification');
    }

    const other = createTsigKey({
      name: 'ddns',
      algorithm: 'hmac-sha256',
      secret: Buffer.alloc(32, 1).toString('base64'),
    });
    expect(() =>
      verifyResponse(signedResponseTo(mac, { signingKey: other }), key, mac, { server: 'test' }),
    ).toThrow(/BADSIG/);

    const old = signedResponseTo(mac, { timeSigned: Math.floor(Date.now() / 1000) - 3600 });
    expect(() => verifyResponse(old, key, mac, { server: 'test' })).toThrow(/BADTIME/);

    const unsigned = encodeMessage(new UpdateBuilder('example.test.').toMessage(99));
    expect(() => verifyResponse(unsigned, key, mac, { server: 'test' })).toThrow(/UNSIGNED/);
  });
});
