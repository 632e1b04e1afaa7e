/** API tokens: random, shown once; the file (mode 0600) keeps only their SHA-256, name, role and date. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import { ChorusError } from '@chorus/core';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface StoredToken {
  name: string;
  role: Role;
  /** Hex SHA-256 of the token. */
  sha256: string;
  created: string;
}

const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** True when `role` may do what `needed` may. */
export const roleAllows = (role: Role, needed: Role) =>
  ROLES.indexOf(role) >= ROLES.indexOf(needed);

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** The tokens in `file`; none when it does not exist yet. */
export async function readTokens(file: string): Promise<StoredToken[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const parsed = JSON.parse(text) as { tokens?: StoredToken[] };
  return parsed.tokens ?? [];
}

/** Replaces the file at once (write then rename), readable by its owner only. */
async function writeTokens(file: string, tokens: readonly StoredToken[]): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify({ tokens }, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

/** Makes a token for `name`, stores its hash, and returns the token (the only time it is seen). */
export async function createToken(
  file: string,
  name: string,
  role: Role,
  now = new Date(),
): Promise<string> {
  if (!TOKEN_NAME.test(name))
    throw new ChorusError('Chorus_BadRequestError', {
      message: `token name ${JSON.stringify(name)}: use letters, digits, '.', '_' or '-' (at most 64)`,
    });
  const tokens = await readTokens(file);
  if (tokens.some((token) => token.name === name))
    throw new ChorusError('Chorus_TokenExistsError', {
      message: `a token named ${name} exists; revoke it first`,
    });
  const token = `chorus_${randomBytes(32).toString('base64url')}`;
  const stored = { name, role, sha256: hashToken(token), created: now.toISOString() };
  await writeTokens(file, [...tokens, stored]);
  return token;
}

/** Removes the token named `name`; an error when there is none. */
export async function revokeToken(file: string, name: string): Promise<void> {
  const tokens = await readTokens(file);
  const kept = tokens.filter((token) => token.name !== name);
  if (kept.length === tokens.length)
    throw new ChorusError('Chorus_UnknownTokenError', { message: `no token named ${name}` });
  await writeTokens(file, kept);
}

/** The stored token whose hash matches `token`, compared in constant time. */
export function findToken(tokens: readonly StoredToken[], token: string): StoredToken | undefined {
  const hash = Buffer.from(hashToken(token), 'hex');
  return tokens.find((stored) => {
    const candidate = Buffer.from(stored.sha256, 'hex');
    return candidate.length === hash.length && timingSafeEqual(candidate, hash);
  });
}
