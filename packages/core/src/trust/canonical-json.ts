/**
 * RFC 8785 (JSON Canonicalization Scheme) for the plain JSON events carry: object members sorted
 * by their names' UTF-16 code units, no whitespace, ECMAScript number and string serialisation.
 * The signing input of an event is its canonical form, so every host signs and verifies the same
 * bytes whatever order its JSON library kept.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return primitive(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const members = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map(
      (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
    );
  return `{${members.join(',')}}`;
}

function primitive(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new TypeError(`${value} has no canonical JSON form`);
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw new TypeError(`a ${typeof value} has no canonical JSON form`);
  return text;
}
