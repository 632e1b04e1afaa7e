/**
 * Per-lab secrets: TSIG keys, rndc keys and the PowerDNS API key. Generated from the OS CSPRNG,
 * written only to files with mode 0600, and never returned in a status, printed or logged.
 */
import { randomBytes } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';

export const TSIG_ALGORITHM = 'hmac-sha256';

/** A 256-bit HMAC-SHA256 secret in base64, as `tsig-keygen -a hmac-sha256` makes. */
export function newTsigSecret(): string {
  return randomBytes(32).toString('base64');
}

/** A 192-bit API key, URL-safe so it fits an HTTP header and a config line as is. */
export function newApiKey(): string {
  return randomBytes(24).toString('base64url');
}

/** The BIND key statement that named, rndc, `nsupdate -k` and Chorus all read. */
export function bindKeyStatement(name: string, secret: string): string {
  return `key "${name}" {\n\talgorithm ${TSIG_ALGORITHM};\n\tsecret "${secret}";\n};\n`;
}

/** The same key as a Knot `key:` section, for a file that knot.conf includes. */
export function knotKeySection(name: string, secret: string): string {
  return `key:\n  - id: ${name}\n    algorithm: ${TSIG_ALGORITHM}\n    secret: ${secret}\n`;
}

/** Writes a file readable by its owner only (mode 0600, whatever the umask). */
export async function writeSecretFile(file: string, content: string): Promise<void> {
  await writeFile(file, content, { mode: 0o600 });
  await chmod(file, 0o600);
}
