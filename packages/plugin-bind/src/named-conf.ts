/**
 * The timing of a zone's dnssec-policy, read from `named-checkconf -px` (named.conf in canonical
 * form with every include expanded and shared secrets replaced by `?`). BIND's own defaults apply
 * to what the policy leaves out, as named does.
 */
import { canonicalName } from '@chorus/dns';

/** One named.conf statement: its words up to the first block, and that block when it has one. */
export interface ConfStatement {
  words: string[];
  block: ConfStatement[] | undefined;
}

/** The pre-publication settings of a zone's dnssec-policy, in seconds. */
export interface PolicyTiming {
  policy: string;
  dnskeyTtl: number;
  publishSafety: number;
  zonePropagationDelay: number;
  /** The settings the policy leaves to BIND's defaults. */
  defaulted: string[];
}

/** Why the timing cannot be read: the setting to change and how. */
export interface PolicyProblem {
  setting: string;
  problem: string;
  fix: string;
}

/** BIND 9.18's built-in values (the `default` policy, and whatever a policy omits). */
export const BIND_POLICY_DEFAULTS = {
  'dnskey-ttl': 3600,
  'publish-safety': 3600,
  'zone-propagation-delay': 300,
} as const;

type TimingSetting = keyof typeof BIND_POLICY_DEFAULTS;

/** Quoted strings, braces, semicolons and bare words; comments are skipped. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const pattern =
    /\s+|\/\/[^\n]*|#[^\n]*|\/\*[\s\S]*?\*\/|"((?:[^"\\]|\\.)*)"|([{};])|([^\s{};"]+)/g;
  for (const match of text.matchAll(pattern)) {
    if (match[1] !== undefined) tokens.push(match[1].replace(/\\(.)/g, '$1'));
    else if (match[2] !== undefined) tokens.push(match[2]);
    else if (match[3] !== undefined) tokens.push(match[3]);
  }
  return tokens;
}

/** Statements up to a closing brace (or the end); `position` moves past what was read. */
function parseBlock(tokens: readonly string[], position: { index: number }): ConfStatement[] {
  const statements: ConfStatement[] = [];
  let current: ConfStatement = { words: [], block: undefined };
  while (position.index < tokens.length) {
    const token = tokens[position.index++]!;
    if (token === '}') break;
    if (token === ';') {
      if (current.words.length > 0 || current.block) statements.push(current);
      current = { words: [], block: undefined };
    } else if (token === '{') {
      const block = parseBlock(tokens, position);
      current.block ??= block;
    } else if (!current.block) current.words.push(token);
  }
  return statements;
}

/** Parses named.conf text (as `named-checkconf -p` prints it) into statements. */
export function parseNamedConf(text: string): ConfStatement[] {
  return parseBlock(tokenize(text), { index: 0 });
}

const ISO_DURATION =
  /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i;
/** Seconds per ISO 8601 part as BIND counts them (a year is 365 days, a month 31). */
const ISO_FACTORS = [365 * 86400, 31 * 86400, 7 * 86400, 86400, 3600, 60, 1];
const TTL_UNITS: Readonly<Record<string, number>> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };

/**
 * A BIND duration in seconds: `300`, TTL style `1h30m`, or ISO 8601 `PT1H30M` / `P1D`.
 * Undefined for anything else (`unlimited` included).
 */
export function parseBindDuration(value: string): number | undefined {
  if (/^\d+$/.test(value)) return Number(value);
  const iso = ISO_DURATION.exec(value);
  if (iso && value.length > 1 && !/T$/i.test(value))
    return iso
      .slice(1)
      .reduce((sum, part, index) => sum + Number(part ?? 0) * ISO_FACTORS[index]!, 0);
  if (!/^(\d+[wdhms])+$/i.test(value)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)([wdhms])/gi))
    seconds += Number(amount) * TTL_UNITS[unit!.toLowerCase()]!;
  return seconds;
}

function find(statements: readonly ConfStatement[] | undefined, ...words: string[]) {
  return statements?.find((statement) =>
    words.every((word, index) => statement.words[index]?.toLowerCase() === word.toLowerCase()),
  );
}

function sameZone(name: string | undefined, zone: string): boolean {
  if (name === undefined) return false;
  try {
    return canonicalName(name.replace(/\.?$/, '.')) === canonicalName(zone);
  } catch {
    return false;
  }
}

/** The zone statement (top level first, then in views), and the view it is in. */
function findZone(statements: readonly ConfStatement[], zone: string) {
  const isZone = (statement: ConfStatement) =>
    statement.words[0] === 'zone' && sameZone(statement.words[1], zone);
  const topLevel = statements.find(isZone);
  if (topLevel) return { zoneStatement: topLevel, view: undefined };
  for (const view of statements.filter((statement) => statement.words[0] === 'view')) {
    const inView = view.block?.find(isZone);
    if (inView) return { zoneStatement: inView, view };
  }
  return undefined;
}

/** The policy name in effect: the zone's, else its view's, else the options', else `none`. */
function policyName(
  statements: readonly ConfStatement[],
  zoneStatement: ConfStatement,
  view: ConfStatement | undefined,
): string {
  const options = find(statements, 'options');
  const named = [zoneStatement, view, options]
    .map((scope) => find(scope?.block, 'dnssec-policy')?.words[1])
    .find((name) => name !== undefined);
  return named ?? 'none';
}

function readSetting(
  policy: ConfStatement | undefined,
  setting: TimingSetting,
  defaulted: string[],
): number | PolicyProblem {
  const value = find(policy?.block, setting)?.words[1];
  if (value === undefined) {
    defaulted.push(setting);
    return BIND_POLICY_DEFAULTS[setting];
  }
  const seconds = parseBindDuration(value);
  if (seconds !== undefined) return seconds;
  return {
    setting,
    problem: `named-checkconf printed ${setting} ${JSON.stringify(value)}, which is not a duration`,
    fix: `write ${setting} in seconds or as an ISO 8601 duration (e.g. PT1H)`,
  };
}

function isProblem(value: number | PolicyProblem): value is PolicyProblem {
  return typeof value !== 'number';
}

/**
 * The dnskey-ttl, publish-safety and zone-propagation-delay of the dnssec-policy `zone` uses,
 * from named.conf in canonical form; BIND's defaults for what the policy leaves out.
 */
export function readPolicyTiming(
  statements: readonly ConfStatement[],
  zone: string,
  configFile: string,
): PolicyTiming | PolicyProblem {
  const found = findZone(statements, zone);
  if (!found)
    return {
      setting: 'namedConfigFile',
      problem: `${configFile} has no zone statement for ${zone}`,
      fix: 'set namedConfigFile to the named.conf that BIND runs with (named -c FILE)',
    };
  const policy = policyName(statements, found.zoneStatement, found.view);
  if (policy === 'none' || policy === 'insecure')
    return {
      setting: 'dnssec-policy',
      problem: `the zone's dnssec-policy is ${policy}, so BIND does not roll keys for it`,
      fix: 'give the zone a dnssec-policy with keys (see the README: key rolls)',
    };
  const statement = policy === 'default' ? undefined : find(statements, 'dnssec-policy', policy);
  if (policy !== 'default' && !statement)
    return {
      setting: 'dnssec-policy',
      problem: `${configFile} names dnssec-policy ${JSON.stringify(policy)} but does not define it`,
      fix: `define dnssec-policy "${policy}" { … }; or use a policy that exists`,
    };
  const defaulted: string[] = [];
  const values = (['dnskey-ttl', 'publish-safety', 'zone-propagation-delay'] as const).map(
    (setting) => readSetting(statement, setting, defaulted),
  );
  const problem = values.find(isProblem);
  if (problem) return problem;
  const [dnskeyTtl, publishSafety, zonePropagationDelay] = values as number[];
  return {
    policy,
    dnskeyTtl: dnskeyTtl!,
    publishSafety: publishSafety!,
    zonePropagationDelay: zonePropagationDelay!,
    defaulted,
  };
}
