/** Bearer tokens: who calls, and whether their role may call the route. */
import type { IncomingMessage } from 'node:http';
import { apiError } from './errors.js';
import { findToken, readTokens, roleAllows, type Role, type StoredToken } from './tokens.js';

/** The token in `Authorization: Bearer <token>`, if any. */
export function bearerToken(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** The caller's stored token; a 401 when it is missing or unknown, a 403 when its role is too low. */
export async function authorize(
  request: IncomingMessage,
  tokensFile: string,
  needed: Role,
): Promise<StoredToken> {
  const token = bearerToken(request);
  if (token === undefined)
    throw apiError('Chorus_UnauthorizedError', 'give a token: Authorization: Bearer <token>');
  const stored = findToken(await readTokens(tokensFile), token);
  if (!stored) throw apiError('Chorus_UnauthorizedError', 'unknown or revoked token');
  if (!roleAllows(stored.role, needed))
    throw apiError(
      'Chorus_ForbiddenError',
      `token ${stored.name} is ${stored.role}; this needs ${needed}`,
    );
  return stored;
}
