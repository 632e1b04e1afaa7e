/** CDS against CDNSKEY at one address, and the continuity of the DS set they ask for. */
import type { DnskeyData, DsData } from '@chorus/core';
import { computeDs, dsIdentity, keyTag } from '@chorus/dns';
import { dsReferencesKey, isDeleteCdnskey, isDeleteCds, validateDnskeyRrset } from '@chorus/parent';
import type { AnsweredChild, AuditObservations, Finding } from '../types.js';
import { groupBy, setIdentity } from '../views.js';

const CHECKED_DIGESTS: ReadonlySet<number> = new Set([1, 2, 4]);

function fail(child: AnsweredChild, message: string): Finding {
  return { severity: 'fail', message: `${child.server}: ${message}`, servers: [child.server] };
}

/** RFC 8078 §4: a delete record must be alone, and both types must say delete. */
function deleteProblems(
  child: AnsweredChild,
  cds: DsData[],
  cdnskey: DnskeyData[],
): Finding[] | null {
  const cdsDelete = cds.some(isDeleteCds);
  const cdnskeyDelete = cdnskey.some(isDeleteCdnskey);
  if (!cdsDelete && !cdnskeyDelete) return null;
  const findings: Finding[] = [];
  if ((cdsDelete && cds.length > 1) || (cdnskeyDelete && cdnskey.length > 1)) {
    findings.push(fail(child, 'a delete record shares its RRset with other records (RFC 8078 §4)'));
  }
  const bothDelete = (cdsDelete || cds.length === 0) && (cdnskeyDelete || cdnskey.length === 0);
  if (!bothDelete)
    findings.push(fail(child, 'one of CDS and CDNSKEY asks to delete the DS, the other does not'));
  return findings;
}

function keyMismatch(
  zone: string,
  child: AnsweredChild,
  cds: DsData[],
  cdnskey: DnskeyData[],
): Finding[] {
  const checkable = cds.filter((ds) => CHECKED_DIGESTS.has(ds.digestType));
  const orphanCds = checkable.filter(
    (ds) => !cdnskey.some((key) => dsReferencesKey(zone, ds, key)),
  );
  const orphanKeys = cdnskey.filter((key) => !cds.some((ds) => dsReferencesKey(zone, ds, key)));
  if (orphanCds.length === 0 && orphanKeys.length === 0) return [];
  const parts = [
    ...orphanCds.map((ds) => `CDS ${ds.keyTag} has no CDNSKEY`),
    ...orphanKeys.map((key) => `CDNSKEY ${keyTag(key)} has no CDS`),
  ];
  return [fail(child, `CDS and CDNSKEY name different keys: ${parts.join(', ')}`)];
}

/** At one address: both types published, the same keys, deletes well formed. */
export function cdsAgreement(zone: string, child: AnsweredChild): Finding[] {
  const cds = child.data.cds?.records ?? [];
  const cdnskey = child.data.cdnskey?.records ?? [];
  if (cds.length === 0 && cdnskey.length === 0) return [];
  const deletes = deleteProblems(child, cds, cdnskey);
  if (deletes) return deletes;
  if (cds.length === 0 || cdnskey.length === 0) {
    const [has, lacks] = cds.length === 0 ? ['CDNSKEY', 'CDS'] : ['CDS', 'CDNSKEY'];
    return [
      {
        severity: 'warn',
        message: `${child.server} publishes ${has} but no ${lacks} (RFC 7344 §4: publish both; parents read one or the other)`,
        servers: [child.server],
      },
    ];
  }
  return keyMismatch(zone, child, cds, cdnskey);
}

/** The DS set an address's CDS and CDNSKEY ask for; null when they ask for nothing or a delete. */
function requestedDs(zone: string, child: AnsweredChild): DsData[] | null {
  const cds = child.data.cds?.records ?? [];
  const cdnskey = child.data.cdnskey?.records ?? [];
  if (cds.some(isDeleteCds) || cdnskey.some(isDeleteCdnskey)) return null;
  const fromKeys = cdnskey
    .filter((key) => !cds.some((ds) => dsReferencesKey(zone, ds, key)))
    .map((key) => computeDs(zone, key, 2));
  const requested = [...cds, ...fromKeys];
  return requested.length > 0 ? requested : null;
}

/** RFC 7344 §4.1: the DS set asked for must still authenticate every address's DNSKEY RRset. */
export function continuity(
  observations: AuditObservations,
  children: readonly AnsweredChild[],
): Finding[] {
  const { zone, now } = observations;
  const requests = children.flatMap((child) => {
    const ds = requestedDs(zone, child);
    return ds ? [{ child, ds }] : [];
  });
  const groups = groupBy(
    requests,
    (entry) => setIdentity(entry.ds.map(dsIdentity)),
    (entry) => entry.child.server,
  );
  return groups.flatMap((group) => {
    const ds = requests.find((entry) => entry.child.server === group.servers[0])!.ds;
    return children
      .filter((child) => (child.data.dnskey?.records.length ?? 0) > 0)
      .flatMap((child): Finding[] => {
        const result = validateDnskeyRrset(zone, child.data.dnskey, ds, now);
        if (result.ok) return [];
        return [
          {
            severity: 'fail',
            message: `the DS set that CDS/CDNSKEY at ${group.servers.join(', ')} ask for would leave the DNSKEY RRset at ${child.server} unauthenticated (RFC 7344 §4.1): ${result.reason}`,
            servers: [...new Set([...group.servers, child.server])],
          },
        ];
      });
  });
}
