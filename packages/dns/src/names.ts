import { InvalidNameError } from '@chorus/core';

/**
 * Domain names in Chorus are absolute presentation-format strings with a trailing dot.
 * Escapes follow RFC 1035 §5.1: `\.` for a literal dot, `\\`, and `\DDD` for any octet.
 */

const MAX_LABEL = 63;
const MAX_NAME = 255;

/** Splits a presentation name into raw label bytes. The root is `[]`. */
export function nameToLabels(name: string): Buffer[] {
  if (name === '') throw new InvalidNameError(name, 'empty name');
  if (name === '.') return [];
  if (!name.includes('\\')) return plainLabels(name);
  const labels: Buffer[] = [];
  let current: number[] = [];
  let index = 0;
  const finish = () => {
    if (current.length === 0) throw new InvalidNameError(name, 'empty label');
    if (current.length > MAX_LABEL)
      throw new InvalidNameError(name, `label longer than ${MAX_LABEL} octets`);
    labels.push(Buffer.from(current));
    current = [];
  };
  while (index < name.length) {
    const char = name[index]!;
    if (char === '\\') {
      const digits = /^\d{3}/.exec(name.slice(index + 1));
      if (digits) {
        const value = Number(digits[0]);
        if (value > 255) throw new InvalidNameError(name, `escape \\${digits[0]} is above 255`);
        current.push(value);
        index += 4;
        continue;
      }
      const next = name[index + 1];
      if (next === undefined) throw new InvalidNameError(name, 'dangling backslash');
      current.push(...Buffer.from(next, 'utf8'));
      index += 2;
      continue;
    }
    if (char === '.') {
      finish();
      index += 1;
      continue;
    }
    current.push(...Buffer.from(char, 'utf8'));
    index += 1;
  }
  if (current.length > 0) finish();
  const wireLength = labels.reduce((sum, label) => sum + label.length + 1, 1);
  if (wireLength > MAX_NAME)
    throw new InvalidNameError(name, `longer than ${MAX_NAME} octets on the wire`);
  return labels;
}

/** Fast path for the common case: no escapes, so labels are the dot-separated parts. */
function plainLabels(name: string): Buffer[] {
  const parts = name.endsWith('.') ? name.slice(0, -1).split('.') : name.split('.');
  let wireLength = 1;
  const labels = parts.map((part) => {
    if (part.length === 0) throw new InvalidNameError(name, 'empty label');
    const label = Buffer.from(part, 'utf8');
    if (label.length > MAX_LABEL)
      throw new InvalidNameError(name, `label longer than ${MAX_LABEL} octets`);
    wireLength += label.length + 1;
    return label;
  });
  if (wireLength > MAX_NAME)
    throw new InvalidNameError(name, `longer than ${MAX_NAME} octets on the wire`);
  return labels;
}

function escapeLabel(label: Buffer): string {
  let out = '';
  for (const byte of label) {
    if (
      byte === 0x2e ||
      byte === 0x5c ||
      byte === 0x22 ||
      byte === 0x28 ||
      byte === 0x29 ||
      byte === 0x3b ||
      byte === 0x40 ||
      byte === 0x24
    ) {
      out += `\\${String.fromCharCode(byte)}`;
    } else if (byte <= 0x20 || byte >= 0x7f) {
      out += `\\${byte.toString().padStart(3, '0')}`;
    } else {
      out += String.fromCharCode(byte);
    }
  }
  return out;
}

export function labelsToName(labels: readonly Buffer[]): string {
  if (labels.length === 0) return '.';
  return `${labels.map(escapeLabel).join('.')}.`;
}

/** Validates a name and returns it absolute (trailing dot added when missing). */
export function normalizeName(name: string): string {
  const trimmed = name.trim();
  return labelsToName(
    nameToLabels(trimmed.endsWith('.') || trimmed === '' ? trimmed : `${trimmed}.`),
  );
}

const ZONE_NAME = /^(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?|\.)$/;

/**
 * A zone name as a person types it (a command-line argument, a config value), made absolute.
 * Stricter than {@link normalizeName}: only letters, digits, `-` and `_` in dot-separated labels,
 * so `'example.test. extra'`, `a;b.test` or an escaped name is refused, never escaped.
 */
export function parseZoneName(input: string): string {
  const trimmed = input.trim();
  if (trimmed === '') throw new InvalidNameError(input, 'empty zone name');
  if (!ZONE_NAME.test(trimmed)) {
    const odd = [...trimmed].find((char) => !/[A-Za-z0-9_.-]/.test(char));
    throw new InvalidNameError(
      input,
      odd === undefined
        ? 'a zone name has no empty labels'
        : `a zone name has only letters, digits, "-" and "_" in dot-separated labels, not ${JSON.stringify(odd)}`,
    );
  }
  return normalizeName(trimmed);
}

/** Lower-cases ASCII letters only (RFC 4034 §6.1): the canonical form of a name. */
export function canonicalName(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

/** Uncompressed wire form of a name. */
export function nameToWire(name: string, options: { lowercase?: boolean } = {}): Buffer {
  const labels = nameToLabels(name);
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = options.lowercase ? lowercaseBytes(label) : label;
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function lowercaseBytes(label: Buffer): Buffer {
  const copy = Buffer.from(label);
  for (let i = 0; i < copy.length; i += 1) {
    const byte = copy[i]!;
    if (byte >= 0x41 && byte <= 0x5a) copy[i] = byte + 0x20;
  }
  return copy;
}

/** Reads a possibly compressed name at `offset`; `bytes` is how many octets it used there. */
export function nameFromWire(buffer: Buffer, offset: number): { name: string; bytes: number } {
  const labels: Buffer[] = [];
  let position = offset;
  let bytes = -1;
  let jumps = 0;
  let total = 1;
  for (;;) {
    if (position >= buffer.length)
      throw new InvalidNameError('<wire>', 'name runs past the end of the message');
    const length = buffer[position]!;
    if ((length & 0xc0) === 0xc0) {
      if (position + 1 >= buffer.length)
        throw new InvalidNameError('<wire>', 'truncated compression pointer');
      if (bytes < 0) bytes = position + 2 - offset;
      jumps += 1;
      if (jumps > 64) throw new InvalidNameError('<wire>', 'compression pointer loop');
      position = ((length & 0x3f) << 8) | buffer[position + 1]!;
      continue;
    }
    if ((length & 0xc0) !== 0)
      throw new InvalidNameError('<wire>', `unsupported label type 0x${length.toString(16)}`);
    if (length === 0) {
      if (bytes < 0) bytes = position + 1 - offset;
      break;
    }
    if (position + 1 + length > buffer.length)
      throw new InvalidNameError('<wire>', 'label runs past the end of the message');
    labels.push(buffer.subarray(position + 1, position + 1 + length));
    total += length + 1;
    if (total > MAX_NAME) throw new InvalidNameError('<wire>', `longer than ${MAX_NAME} octets`);
    position += 1 + length;
  }
  return { name: labelsToName(labels), bytes };
}

/** Number of labels, not counting the root (RFC 4034 §3.1.3 counts a leading `*` separately). */
export function labelCount(name: string): number {
  return nameToLabels(name).length;
}

/** Case-insensitive name equality. */
export function namesEqual(a: string, b: string): boolean {
  return canonicalName(normalizeName(a)) === canonicalName(normalizeName(b));
}

/** True when `name` is `zone` or below it. */
export function isSubdomain(name: string, zone: string): boolean {
  const nameLabels = nameToLabels(normalizeName(name)).map((l) =>
    canonicalName(l.toString('latin1')),
  );
  const zoneLabels = nameToLabels(normalizeName(zone)).map((l) =>
    canonicalName(l.toString('latin1')),
  );
  if (zoneLabels.length > nameLabels.length) return false;
  const offset = nameLabels.length - zoneLabels.length;
  return zoneLabels.every((label, index) => nameLabels[offset + index] === label);
}
