/** `chorus token create|list|revoke`: the API tokens of `chorus serve` (only their hashes are kept). */
import { createToken, isRole, readTokens, revokeToken, ROLES } from '@chorus/serve';
import { expectPositionals, parseCommandArgs, UsageError } from '../args.js';
import { TOKEN_HELP } from '../help.js';
import type { CliIo } from '../io.js';

function tokensFileOf(value: string | undefined): string {
  const file = value ?? process.env.CHORUS_TOKENS;
  if (!file) throw new UsageError('give the tokens file with --tokens FILE', 'token');
  return file;
}

export async function tokenCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('token', args, {
    tokens: { type: 'string' },
    name: { type: 'string' },
    role: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  const [sub, ...rest] = positionals;
  if (values.help || sub === undefined) {
    if (values.help) io.stdout(TOKEN_HELP);
    else io.stderr(TOKEN_HELP);
    return values.help ? 0 : 2;
  }
  const file = tokensFileOf(values.tokens);
  switch (sub) {
    case 'create': {
      expectPositionals(rest, 0, 'token');
      if (!values.name) throw new UsageError('name the token with --name NAME', 'token');
      if (!isRole(values.role))
        throw new UsageError(`--role must be one of ${ROLES.join(', ')}`, 'token');
      const token = await createToken(file, values.name, values.role);
      io.stdout(`${token}\n`);
      io.stderr(`token ${values.name} (${values.role}) created; it is shown only this once\n`);
      return 0;
    }
    case 'list': {
      expectPositionals(rest, 0, 'token');
      const tokens = (await readTokens(file)).map(({ name, role, created }) => ({
        name,
        role,
        created,
      }));
      if (values.json) io.stdout(`${JSON.stringify(tokens, null, 2)}\n`);
      else
        io.stdout(
          tokens.map((t) => `${t.name}  ${t.role}  ${t.created}\n`).join('') || 'no token\n',
        );
      return 0;
    }
    case 'revoke': {
      expectPositionals(rest, 1, 'token');
      if (rest[0] === undefined)
        throw new UsageError('name the token: chorus token revoke NAME', 'token');
      await revokeToken(file, rest[0]);
      io.stdout(`token ${rest[0]} revoked\n`);
      return 0;
    }
    default:
      throw new UsageError(`expected create, list or revoke, not ${JSON.stringify(sub)}`, 'token');
  }
}
