export { canonicalRrsetSigningData, rrsigLabelCount, signedOwnerName } from './dnssec/canonical.js';
export type { RecordData, SignedRrset } from './dnssec/canonical.js';
export { computeDs, dsMatchesKey, isSupportedDigestType } from './dnssec/ds.js';
export type { DsDigestType } from './dnssec/ds.js';
export { dnskeyRdata, keyTag } from './dnssec/key-tag.js';
export {
  NSEC3_FLAG_OPT_OUT,
  NSEC3_HASH_SHA1,
  isOptOut,
  nsec3Hash,
  nsec3HashBytes,
} from './dnssec/nsec3.js';
export type { Nsec3Parameters } from './dnssec/nsec3.js';
export { verifyRrsig } from './dnssec/verify.js';
export type { VerifyRrsigInput, VerifyRrsigResult } from './dnssec/verify.js';
export { readApexFromServer, readPlannedApex, servedRrset, type PlannedApex } from './kit/apex.js';
export { signalOption, throwIfAborted, withTimeout } from './kit/abort.js';
export type { BoundedSignal } from './kit/abort.js';
export { runCommand } from './kit/command.js';
export type { CommandLogger, CommandOptions, CommandResult } from './kit/command.js';
export {
  apiUrl,
  configParser,
  describeValue,
  dnsName,
  endpoint,
  failConfig,
  filePath,
  integer,
  ipAddress,
  isPlainObject,
  list,
  object,
  oneOf,
  optional,
  port,
  signerId,
  text,
  timeoutMs,
  validateConfig,
  withDefault,
  withNameServers,
} from './kit/config.js';
export type {
  ApiUrlOptions,
  ConfigOf,
  ConfigParser,
  ConfigScope,
  Field,
  ObjectOptions,
  OptionalField,
} from './kit/config.js';
export { HttpClient, parseRetryAfter, safeUrl } from './kit/http.js';
export { callTally, countCall, tallyDifference } from './kit/tally.js';
export { ConcurrencySlots } from './kit/slots.js';
export { probeUpdateAccess } from './kit/update-probe.js';
export type { HttpClientOptions, HttpRequest, HttpResponse } from './kit/http.js';
export {
  CAPABILITY_FOR_TYPE,
  assertPlanAllowed,
  csyncIdentity,
  describeChange,
  dnskeyIdentity,
  dsIdentity,
  managedRecordIdentity,
  planSignerChanges,
  reconcileSigner,
} from './kit/plan.js';
export type { ManagedRecord, ReconcileOptions, ReconcileResult } from './kit/plan.js';
export {
  canonicalName,
  isSubdomain,
  labelCount,
  nameFromWire,
  nameToLabels,
  nameToWire,
  namesEqual,
  normalizeName,
  parseZoneName,
} from './names.js';
export { buildNotify, sendNotify } from './notify.js';
export type { NotifyOptions, NotifyType } from './notify.js';
export {
  dsyncGenericRdata,
  formatRdata,
  formatRecord,
  parseRdata,
  parseRecord,
  parseZone,
} from './presentation.js';
export type { ParseRecordOptions, ParseZoneOptions } from './presentation.js';
export { exchange, groupRRsets, query } from './query.js';
export type { ExchangeOptions, ExchangeResult, QueryOptions, QueryResponse } from './query.js';
export { decodeRdata, decodeTypeBitmap, encodeRdata, encodeTypeBitmap } from './rdata.js';
export { isRecordOfType } from './records.js';
export { describeServer } from './transport.js';
export {
  DEFAULT_TSIG_FUDGE,
  createTsigKey,
  parseTsigKeyFile,
  readTsigKeyFile,
  signMessage,
  TsigStreamVerifier,
  MAX_UNSIGNED_TSIG_RUN,
  verifyResponse,
} from './tsig.js';
export type { SignedMessage, TsigAlgorithm, TsigKey } from './tsig.js';
export { UpdateBuilder, sendUpdate } from './update.js';
export type { UpdateOperation, UpdatePrerequisite, UpdateResult } from './update.js';
export { decodeMessage, decodeMessageDetailed, encodeMessage, encodeRecord } from './wire.js';
export type { DecodedMessage } from './wire.js';
export { isComparableContent, NON_CONTENT_TYPES, zoneContentDigest } from './zone-content.js';
export { transferZone, transferZoneDetailed } from './axfr.js';
export type { TransferOptions, ZoneTransfer } from './axfr.js';
export { closeTcpPool, sendPooledTcp, tcpPoolStats } from './tcp-pool.js';
export type { TcpPoolStats } from './tcp-pool.js';
export { servedRecords } from './kit/served.js';
export { reconcileBootstrapSignals, SignallerBase } from './kit/signal-reconcile.js';
export type { SignalLogger } from './kit/signal-reconcile.js';
export {
  bootstrapSignalCapability,
  describeSignalWrite,
  placeSignals,
  readSignalsFromServer,
  sameSignals,
  sendSignalUpdate,
  signallingName,
  signallingZoneSetting,
  signalUpdate,
  signalWrites,
  withBootstrapSignal,
} from './kit/signals.js';
export type {
  SignalPlacement,
  SignalRrset,
  SignalUpdateOptions,
  SignalWrite,
} from './kit/signals.js';
export type { ServedOptions } from './kit/served.js';
export {
  formatSkr,
  inEffectAt,
  missingPlannedZsks,
  parseKsr,
  withoutRepeats,
} from './kit/offline-ksk.js';
