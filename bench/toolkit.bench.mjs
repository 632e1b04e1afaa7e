// `pnpm bench`: throughput figures for the core toolkit, printed as a table. Figures, not
// assertions: compare the rows of one run with each other (machines here are noisy).
import { generateKeyPairSync, sign } from 'node:crypto';
import { Bench } from 'tinybench';
import {
  canonicalRrsetSigningData,
  computeDs,
  decodeMessage,
  encodeMessage,
  keyTag,
  planSignerChanges,
  verifyRrsig,
} from '../packages/dns/dist/index.js';

const zone = 'example.test.';

function rawEcdsa(jwk) {
  return Buffer.concat([Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

function rawRsa(jwk) {
  const exponent = Buffer.from(jwk.e, 'base64url');
  return Buffer.concat([Buffer.from([exponent.length]), exponent, Buffer.from(jwk.n, 'base64url')]);
}

function makeKey(algorithm) {
  const pair =
    algorithm === 13
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : algorithm === 15
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
  const jwk = pair.publicKey.export({ format: 'jwk' });
  const raw =
    algorithm === 13
      ? rawEcdsa(jwk)
      : algorithm === 15
        ? Buffer.from(jwk.x, 'base64url')
        : rawRsa(jwk);
  return {
    dnskey: { flags: 257, protocol: 3, algorithm, publicKey: raw.toString('base64') },
    privateKey: pair.privateKey,
  };
}

const rrset = { name: `www.${zone}`, type: 'A', class: 'IN', records: ['192.0.2.1', '192.0.2.2'] };

function signedBy(key) {
  const unsigned = {
    typeCovered: 'A',
    algorithm: key.dnskey.algorithm,
    labels: 3,
    originalTtl: 30,
    expiration: 2_000_000_000,
    inception: 1_700_000_000,
    keyTag: keyTag(key.dnskey),
    signerName: zone,
    signature: '',
  };
  const data = canonicalRrsetSigningData(unsigned, rrset);
  const hash = key.dnskey.algorithm === 15 ? null : 'sha256';
  const options =
    key.dnskey.algorithm === 13
      ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' }
      : key.privateKey;
  return { ...unsigned, signature: sign(hash, data, options).toString('base64') };
}

const keys = { 13: makeKey(13), 15: makeKey(15), 8: makeKey(8) };
const signatures = { 13: signedBy(keys[13]), 15: signedBy(keys[15]), 8: signedBy(keys[8]) };

const dnskeys = Array.from({ length: 6 }, (_, index) => ({
  name: zone,
  type: 'DNSKEY',
  class: 'IN',
  ttl: 30,
  data: { ...keys[13].dnskey, flags: index === 0 ? 257 : 256 },
}));
const message = {
  id: 1,
  opcode: 'QUERY',
  flags: { qr: true, aa: true, tc: false, rd: false, ra: false, ad: false, cd: false },
  rcode: 'NOERROR',
  questions: [{ name: zone, type: 'DNSKEY', class: 'IN' }],
  answers: [
    ...dnskeys,
    {
      name: zone,
      type: 'RRSIG',
      class: 'IN',
      ttl: 30,
      data: { ...signatures[13], typeCovered: 'DNSKEY' },
    },
  ],
  authorities: [],
  additionals: [],
  edns: { udpPayloadSize: 1232, dnssecOk: true, version: 0, options: [] },
};
const wire = encodeMessage(message);
const foreign = [keys[15].dnskey, keys[8].dnskey];
const served = {
  zone,
  server: 'bench',
  soa: null,
  ns: null,
  cds: null,
  cdnskey: null,
  csync: null,
  dnskey: {
    name: zone,
    type: 'DNSKEY',
    class: 'IN',
    ttl: 30,
    records: [keys[13].dnskey],
    signatures: [],
  },
};
const ownKeys = [
  { role: 'KSK', algorithm: 13, keyTag: keyTag(keys[13].dnskey), dnskey: keys[13].dnskey },
];

const suite = new Bench({ time: 300 });
suite
  .add('wire: encode a 6-DNSKEY + RRSIG answer', () => encodeMessage(message))
  .add('wire: decode a 6-DNSKEY + RRSIG answer', () => decodeMessage(wire))
  .add('verify RRSIG, ECDSAP256SHA256 (13)', () =>
    verifyRrsig({ rrset, signature: signatures[13], key: keys[13].dnskey, ignoreTime: true }),
  )
  .add('verify RRSIG, ED25519 (15)', () =>
    verifyRrsig({ rrset, signature: signatures[15], key: keys[15].dnskey, ignoreTime: true }),
  )
  .add('verify RRSIG, RSASHA256 (8) 2048 bits', () =>
    verifyRrsig({ rrset, signature: signatures[8], key: keys[8].dnskey, ignoreTime: true }),
  )
  .add('key tag (RSA key)', () => keyTag(keys[8].dnskey))
  .add('DS SHA-256', () => computeDs(zone, keys[13].dnskey, 2))
  .add('plan one signer of a three-signer join', () =>
    planSignerChanges({
      signerId: 'bench',
      ownKeys,
      served,
      desired: {
        foreignDnskeys: foreign,
        foreignCds: foreign.map((key) => computeDs(zone, key, 2)),
        foreignCdnskeys: foreign,
        csync: null,
        ttl: 30,
      },
    }),
  );

await suite.run();
const rows = suite.tasks.map((task) => ({
  benchmark: task.name,
  'ops/s': Math.round(task.result.throughput.mean).toLocaleString('en'),
  'mean µs': (task.result.latency.mean * 1000).toFixed(2),
  samples: task.result.totalTime ? Math.round(task.result.totalTime / task.result.latency.mean) : 0,
}));
process.stdout.write(`Node ${process.version}, ${new Date().toISOString()}\n`);
// eslint-disable-next-line no-console
console.table(rows);
