/**
 * RFC 8785 (JSON Canonicalization Scheme) for the plain JSON events carry: object members sorted
 * by their names' UTF-16 code units, no whitespace, ECMAScript number and string serialisation.
 * The signing input of an event is its canonical form, so every host signs and verifies the same
 * bytes whatever order its JSON library kept.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return primitive(value);
  // String building without intermediate arrays: every signature and verification runs this.
  if (Array.isArray(value)) {
    let text = '[';
    for (let index = 0; index < value.length; index += 1)
      text += (index === 0 ? '' : ',') + canonicalJson(value[index]);
    return `${text}]`;
  }
  const record = value as Record<string, unknown>;
  let text = '{';
  for (const key of Object.keys(record).sort()) {
    const field = record[key];
    if (field === undefined) continue;
    text += `${text.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(field)}`;
  }
  return `${text}}`;
}

function primitive(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new TypeError(`${value} has no canonical JSON form`);
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw new TypeError(`a ${typeof value} has no canonical JSON form`);
  return text;
}
