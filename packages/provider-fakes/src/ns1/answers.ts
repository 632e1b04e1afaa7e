/**
 * NS1 answers are rdata split into fields (`["10", "mx.example.com"]`); the backend wants
 * presentation format. Names in answers have no trailing dot; numbers may be JSON numbers.
 * Field splitting for CDNSKEY and CSYNC is [inferred]: CDNSKEY like DNSKEY, CSYNC as
 * `[serial, flags, "A NS AAAA"]` on output and either that or fully split on input.
 */
import { HttpError } from '../errors.js';
import { canonicalRdata, RdataError } from '../rdata.js';

/** Which field of each type is a domain name. */
const NAME_FIELD: Readonly<Record<string, number>> = {
  NS: 0,
  CNAME: 0,
  DNAME: 0,
  PTR: 0,
  MX: 1,
  SRV: 3,
};

export function invalidInput(detail: string): HttpError {
  return new HttpError(400, { message: `Input validation failed (${detail})` });
}

function fieldText(field: unknown): string {
  if (typeof field === 'string') return field;
  if (typeof field === 'number' && Number.isFinite(field)) return String(field);
  throw invalidInput(`Value ${JSON.stringify(field)} in answer is not of type string`);
}

function quoted(text: string): string {
  return `"${text.replace(/["\\]/g, (character) => `\\${character}`)}"`;
}

/** The answer's fields as presentation content (canonical), or a 400. */
export function answerToContent(type: string, fields: readonly unknown[]): string {
  const texts = fields.map(fieldText);
  if (texts.length === 0) throw invalidInput('answer must not be empty');
  const nameIndex = NAME_FIELD[type];
  if (nameIndex !== undefined) {
    const name = texts[nameIndex];
    if (name !== undefined && !name.endsWith('.')) texts[nameIndex] = `${name}.`;
  }
  const content = type === 'TXT' || type === 'SPF' ? texts.map(quoted).join(' ') : texts.join(' ');
  try {
    return canonicalRdata(type, content);
  } catch (error) {
    const reason = error instanceof RdataError ? error.reason : String(error);
    throw invalidInput(`invalid ${type} answer ${JSON.stringify(texts)}: ${reason}`);
  }
}

/** Unquotes TXT character strings and joins them (NS1 shows TXT answers unquoted). */
function txtText(content: string): string {
  const strings = [...content.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((match) =>
    (match[1] ?? '').replace(/\\(.)/g, '$1'),
  );
  return strings.length === 0 ? content : strings.join('');
}

/** Backend content as NS1 answer fields. */
export function contentToAnswer(type: string, content: string): string[] {
  if (type === 'TXT' || type === 'SPF') return [txtText(content)];
  const fields = content.trim().split(/\s+/);
  if (type === 'CSYNC') return [fields[0] ?? '', fields[1] ?? '', fields.slice(2).join(' ')];
  const nameIndex = NAME_FIELD[type];
  if (nameIndex !== undefined) {
    const name = fields[nameIndex];
    if (name !== undefined && name.length > 1) fields[nameIndex] = name.replace(/\.$/, '');
  }
  return fields;
}

/**
 * Reads the `answers` of a record body: `[{"answer": [...]}]`, and leniently also bare field
 * lists or space-separated strings. Returns the answers' content.
 */
export function readAnswers(type: string, answers: unknown): string[] {
  if (!Array.isArray(answers))
    throw invalidInput(
      `Value ${JSON.stringify(answers)} for field 'record.answers' is not of type array`,
    );
  return answers.map((answer) => {
    if (typeof answer === 'string') return answerToContent(type, answer.trim().split(/\s+/));
    if (Array.isArray(answer)) return answerToContent(type, answer);
    if (
      typeof answer === 'object' &&
      answer !== null &&
      Array.isArray((answer as { answer?: unknown }).answer)
    )
      return answerToContent(type, (answer as { answer: unknown[] }).answer);
    throw invalidInput("answers must be objects with an 'answer' list");
  });
}
