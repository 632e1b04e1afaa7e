/**
 * RFC 9615 signalling records from the BIND, Knot and PowerDNS plugins on their real servers: a
 * lab of its own on 127.86.0 (or $CHORUS_TEST_BOOTSTRAP_SIGNAL_PREFIX) with `signalling` on, so
 * that each signer serves `<id>.test.`, signed and delegated with a DS from `test.`. For each
 * plugin the conformance group bootstrap-signal publishes CDS/CDNSKEY for `boot.test.` at
 * `_dsboot.boot.test._signal.ns.<id>.test.`, reads them from the server and through the
 * validating delegation resolver (AD=1), replaces them, withdraws them, and is refused for an NS
 * hostname outside the signalling zone. Knot runs with both update methods.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Signer, SignerCapabilities } from '@chorus/core';
import { isSubdomain } from '@chorus/dns';
import { signerConformance, type BootstrapSignalOptions } from '@chorus/conformance';
import {
  flushResolverZone,
  labDown,
  labUp,
  signallingZoneName,
  type LabStatus,
  type SignerId,
} from '@chorus/lab';
import { endpoint, labResolver, labServer } from '@chorus/lab/testing';
import { bindCapabilitiesFor, createBindSigner } from '@chorus/plugin-bind';
import { createKnotSigner, knotCapabilitiesFor, type KnotUpdateMethod } from '@chorus/plugin-knot';
import { createPowerDnsSigner, powerdnsCapabilitiesFor } from '@chorus/plugin-powerdns';

const PREFIX = process.env.CHORUS_TEST_BOOTSTRAP_SIGNAL_PREFIX ?? '127.86.0';
const CHILD = 'boot.test.';
const OUTSIDE = 'ns.outside.invalid.';

let directory: string;
let status: LabStatus;

beforeAll(async () => {
  directory = await mkdtemp(path.join(os.tmpdir(), 'chorus-bootstrap-signal-'));
  status = await labUp({ directory, addressPrefix: PREFIX, signalling: true });
}, 120_000);

afterAll(async () => {
  if (directory) await labDown({ directory });
  await rm(directory, { recursive: true, force: true });
});

/** The lab's signalling zone of `id` and the NS name in it. */
function signalling(id: SignerId) {
  const entry = status.signalling.find((candidate) => candidate.server === id);
  if (!entry) throw new Error(`the lab serves no signalling zone for ${id}`);
  return entry;
}

/** Where the group publishes for `id`, and the resolver a parent would ask. */
function targetFor(id: SignerId): () => BootstrapSignalOptions {
  return () => {
    const resolver = labResolver(status, 'resolver-delegation');
    return {
      zone: CHILD,
      nameservers: [signalling(id).nameserver],
      outsideNameserver: OUTSIDE,
      resolver: endpoint(resolver),
      flushResolver: () => flushResolverZone(resolver, signalling(id).zone),
    };
  };
}

function bindConfig() {
  const server = labServer(status, 'bind');
  if (server.control.kind !== 'rndc') throw new Error('bind has no rndc control channel');
  return {
    id: 'bind',
    server: endpoint(server),
    tsigKeyFile: server.tsig.keyFile,
    rndc: { configFile: server.control.configFile },
    keyDirectory: server.keys.zonePath ?? server.keys.path,
    signallingZone: signalling('bind').zone,
  };
}

function knotConfig(updateMethod: KnotUpdateMethod) {
  const server = labServer(status, 'knot');
  if (server.control.kind !== 'knotc') throw new Error('knot has no knotc control');
  return {
    id: 'knot',
    server: endpoint(server),
    tsigKeyFile: server.tsig.keyFile,
    knotc: { configFile: server.control.configFile },
    updateMethod,
    signallingZone: signalling('knot').zone,
  };
}

function powerdnsConfig() {
  const server = labServer(status, 'powerdns');
  if (server.control.kind !== 'powerdns-api') throw new Error('powerdns has no API');
  return {
    id: 'powerdns',
    server: endpoint(server),
    api: { url: server.control.url, apiKeyFile: server.control.apiKeyFile },
    signallingZone: signalling('powerdns').zone,
  };
}

function signalConformance(
  id: SignerId,
  capabilities: SignerCapabilities,
  create: () => Signer,
): void {
  signerConformance({
    describe,
    test,
    expect,
    capabilities,
    zone: CHILD,
    create,
    only: ['bootstrap-signal'],
    bootstrapSignal: targetFor(id),
    convergenceTimeoutMs: 20_000,
  });
}

describe('the lab serves the signalling zones', () => {
  test('one per signer, inside which its NS name lies', () => {
    expect(status.signalling.map((entry) => entry.zone)).toEqual(
      (['bind', 'powerdns', 'knot'] as const).map(signallingZoneName),
    );
    for (const entry of status.signalling)
      expect(isSubdomain(entry.nameserver, entry.zone), entry.nameserver).toBe(true);
  });
});

describe('bind', () => {
  signalConformance('bind', bindCapabilitiesFor(['bind.test.']), () =>
    createBindSigner(bindConfig()),
  );
});

describe('knot, updateMethod dns-update', () => {
  signalConformance('knot', knotCapabilitiesFor(['knot.test.']), () =>
    createKnotSigner(knotConfig('dns-update')),
  );
});

describe('knot, updateMethod knotc', () => {
  signalConformance('knot', knotCapabilitiesFor(['knot.test.']), () =>
    createKnotSigner(knotConfig('knotc')),
  );
});

describe('powerdns', () => {
  signalConformance('powerdns', powerdnsCapabilitiesFor(['powerdns.test.']), () =>
    createPowerDnsSigner(powerdnsConfig()),
  );
});
