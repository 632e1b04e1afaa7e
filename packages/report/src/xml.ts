/** Escaping for XML and HTML text and attribute values. */

/** Whether XML 1.0 allows the code point (tab, LF, CR, and everything from space up but U+FFFE/F). */
const allowed = (code: number): boolean =>
  code === 0x09 ||
  code === 0x0a ||
  code === 0x0d ||
  (code >= 0x20 && code <= 0xd7ff) ||
  (code >= 0xe000 && code <= 0xfffd) ||
  (code >= 0x10000 && code <= 0x10ffff);

/** Replaces characters XML forbids (controls, lone surrogates) with U+FFFD. */
function xmlCharacters(value: string): string {
  let out = '';
  for (const char of value) out += allowed(char.codePointAt(0)!) ? char : '\ufffd';
  return out;
}

/** Escapes `&`, `<`, `>`, `"` and `'`, and replaces characters XML forbids with U+FFFD. */
export function escapeXml(value: string | number): string {
  return xmlCharacters(String(value))
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A string safe in file names: letters, digits, `.`, `_` and `-`. */
export function safeFileName(value: string): string {
  const safe = value.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_');
  return safe === '' ? '_' : safe.slice(0, 80);
}
