/**
 * At most `limit` changes to the signer's server at once, across all its zones: the plugin's
 * `concurrent-changes` limit (or the sidecar config's `maxConcurrentChanges`). The others wait
 * their turn in order, so a busy server (PowerDNS on SQLite) is never driven into locking.
 */
export { ConcurrencySlots as ChangeSlots } from '@chorus/dns';
