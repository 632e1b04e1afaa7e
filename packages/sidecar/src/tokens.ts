/** Dependency-injection tokens. `Symbol.for`, so they survive duplicate package copies. */
export const TOKENS = {
  config: Symbol.for('chorus.sidecar.config'),
  logger: Symbol.for('chorus.logger'),
  eventLog: Symbol.for('chorus.eventLog'),
  signer: Symbol.for('chorus.signer'),
  parentChannel: Symbol.for('chorus.parentChannel'),
} as const;
