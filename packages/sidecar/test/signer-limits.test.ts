import { describe, expect, it } from 'vitest';
import { can, cannot, type SignerCapabilities } from '@chorus/core';
import { limitsOf } from '../src/runtime.js';

const withCds = (note?: SignerCapabilities['cds-import-foreign']) => ({
  capabilities: (note ? { 'cds-import-foreign': note } : {}) as SignerCapabilities,
});

describe('the limits a sidecar registers', () => {
  it('names a declared cannot with the plugin reason', () => {
    expect(limitsOf(withCds(cannot('publishes CDS for its own KSK only')))).toEqual({
      limits: [{ capability: 'cds-import-foreign', reason: 'publishes CDS for its own KSK only' }],
    });
  });

  it('registers none for a plugin that can, or that does not say', () => {
    expect(limitsOf(withCds(can('UPDATE adds CDS and CDNSKEY')))).toEqual({});
    expect(limitsOf(withCds())).toEqual({});
  });
});
