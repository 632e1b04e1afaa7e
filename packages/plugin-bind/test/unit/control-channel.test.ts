import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ControlChannelError,
  decodeMessage,
  encodeMessage,
  encodeTable,
  textOf,
  type ControlKey,
  type ControlTable,
} from '../../src/control-channel.js';
import { endpointFromKeyFile, endpointFromRndcConf, RndcConfProblem } from '../../src/rndc-conf.js';

const key = (algorithm: ControlKey['algorithm'] = 'hmac-sha256'): ControlKey => ({
  name: 'rndc-key',
  algorithm,
  secret: randomBytes(32),
});

const message: ControlTable = {
  _ctrl: { _ser: Buffer.from('7'), _tim: Buffer.from('1700000000') },
  _data: { type: Buffer.from('dnssec -status example.com'), list: [Buffer.from('a'), {}] },
};

/** A message body as the channel reads it: the frame without its 4-byte length. */
const bodyOf = (frame: Buffer) => frame.subarray(4);

describe('control channel messages', () => {
  it.each(['hmac-md5', 'hmac-sha1', 'hmac-sha256', 'hmac-sha512'] as const)(
    'round-trip under %s, with the length prefix and version 1',
    (algorithm) => {
      const signing = key(algorithm);
      const frame = encodeMessage(message, signing);
      expect(frame.readUInt32BE(0)).toBe(frame.length - 4);
      expect(frame.readUInt32BE(4)).toBe(1);
      const decoded = decodeMessage(bodyOf(frame), signing);
      expect(textOf(decoded._data, 'type')).toBe('dnssec -status example.com');
      expect(textOf(decoded._ctrl, '_ser')).toBe('7');
      expect((decoded._data as ControlTable).list).toEqual([Buffer.from('a'), {}]);
    },
  );

  it('puts the HMAC where BIND looks: 22 base64 characters for MD5, algorithm byte + 88 for SHA', () => {
    const md5 = encodeMessage(message, key('hmac-md5'));
    expect(md5.subarray(8, 14).toString('latin1')).toBe('\x05_auth');
    expect(md5.subarray(19, 24).toString('latin1')).toBe('\x04hmd5');
    expect(md5.readUInt32BE(25)).toBe(22);
    const sha = encodeMessage(message, key('hmac-sha256'));
    expect(sha.subarray(19, 24).toString('latin1')).toBe('\x04hsha');
    expect(sha.readUInt32BE(25)).toBe(89);
    expect(sha.readUInt8(29)).toBe(163);
    // 44 base64 characters of a SHA-256 HMAC, then zeros up to 88.
    expect(sha.subarray(30 + 44, 30 + 88).every((byte) => byte === 0)).toBe(true);
  });

  it('refuses an answer signed with another key (control: the right key reads it)', () => {
    const frame = encodeMessage(message, key());
    expect(() => decodeMessage(bodyOf(frame), key())).toThrow(/another key/);
  });

  it('refuses a flipped bit anywhere after the signature', () => {
    const signing = key();
    const frame = encodeMessage(message, signing);
    const flipped = Buffer.from(frame);
    flipped[flipped.length - 3]! ^= 0x01;
    expect(() => decodeMessage(bodyOf(flipped), signing)).toThrow(ControlChannelError);
    expect(decodeMessage(bodyOf(frame), signing)).toBeDefined();
  });

  it('reads a `__proto__` key from the wire as an ordinary entry', () => {
    const signing = key();
    const hostile: ControlTable = { _data: {} };
    Object.defineProperty(hostile._data, '__proto__', {
      value: { polluted: Buffer.from('yes') },
      enumerable: true,
    });
    const decoded = decodeMessage(bodyOf(encodeMessage(hostile, signing)), signing);
    const data = decoded._data as ControlTable;
    expect(Object.keys(data)).toEqual(['__proto__']);
    expect(textOf(data, 'polluted')).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a truncated, unsigned or wrong-version message with ControlChannelError', () => {
    const signing = key();
    const frame = encodeMessage(message, signing);
    expect(() => decodeMessage(bodyOf(frame).subarray(0, 40), signing)).toThrow(
      ControlChannelError,
    );
    const version2 = Buffer.from(bodyOf(frame));
    version2.writeUInt32BE(2, 0);
    expect(() => decodeMessage(version2, signing)).toThrow(/version 1/);
    const unsigned = Buffer.concat([Buffer.from([0, 0, 0, 1]), encodeTable(message)]);
    expect(() => decodeMessage(unsigned, signing)).toThrow(/not signed/);
  });
});

describe('rndc.conf and key files', () => {
  let directory: string;
  const secret = randomBytes(32).toString('base64');
  const keyClause = `key "ctl" {\n\talgorithm hmac-sha256;\n\tsecret "${secret}";\n};\n`;

  beforeAll(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-rndc-conf-'));
    await writeFile(path.join(directory, 'rndc.key'), keyClause);
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  async function conf(text: string): Promise<string> {
    const file = path.join(directory, `${randomBytes(4).toString('hex')}.conf`);
    await writeFile(file, text);
    return file;
  }

  it('follows include and options, as rndc -c does', async () => {
    const file = await conf(
      `include "${path.join(directory, 'rndc.key')}";\n# a comment\noptions {\n  default-key "ctl";\n  default-server 127.0.0.9;\n  default-port 9953;\n};\n`,
    );
    const endpoint = await endpointFromRndcConf(file);
    expect(endpoint).toMatchObject({ address: '127.0.0.9', port: 9953 });
    expect(endpoint.key).toMatchObject({ name: 'ctl', algorithm: 'hmac-sha256' });
    expect(endpoint.key.secret.equals(Buffer.from(secret, 'base64'))).toBe(true);
  });

  it("takes the default server's own key and port from its server statement", async () => {
    const file = await conf(
      `${keyClause}key "other" { algorithm hmac-md5; secret "${randomBytes(16).toString('base64')}"; };\noptions { default-key "ctl"; default-server localhost; };\nserver localhost { key "other"; port 1953; };\n`,
    );
    const endpoint = await endpointFromRndcConf(file);
    expect(endpoint).toMatchObject({ address: '127.0.0.1', port: 1953 });
    expect(endpoint.key).toMatchObject({ name: 'other', algorithm: 'hmac-md5' });
  });

  it('reads the one key of a key file, with the address and port given', async () => {
    const endpoint = await endpointFromKeyFile({
      address: '127.0.0.2',
      keyFile: path.join(directory, 'rndc.key'),
    });
    expect(endpoint).toMatchObject({ address: '127.0.0.2', port: 953, key: { name: 'ctl' } });
  });

  it.each([
    ['no key to use', 'options { default-server 127.0.0.1; };', /no default-key/],
    ['an undefined key', 'options { default-key "nope"; };', /key nope is not defined/],
    [
      'a host name',
      `${keyClause}options { default-key "ctl"; default-server ns1.example; };`,
      /host name/,
    ],
    [
      'an algorithm rndc lacks',
      'key "k" { algorithm gss-tsig; secret "AAAA"; }; options { default-key "k"; };',
      /gss-tsig/,
    ],
  ])('says what is wrong with %s, never the secret', async (_what, text, reason) => {
    const error = await endpointFromRndcConf(await conf(text)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RndcConfProblem);
    expect((error as Error).message).toMatch(reason);
    expect((error as Error).message).not.toContain(secret);
  });

  it('names a file it cannot read', async () => {
    const error = await endpointFromRndcConf(path.join(directory, 'missing.conf')).catch(
      (caught: unknown) => caught,
    );
    expect((error as Error).message).toMatch(/cannot read .*missing\.conf: ENOENT/);
  });
});
