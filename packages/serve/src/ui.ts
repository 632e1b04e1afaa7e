/** The web page: three files beside src/ and dist/ (ui/), read once, served without a token. */
import { readFileSync } from 'node:fs';
import { apiError } from './errors.js';
import type { HandlerResult, RequestContext } from './router.js';

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.mjs': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

const files = new Map<string, string>();

function uiFile(name: string): HandlerResult {
  const contentType = TYPES[name];
  if (!contentType) throw apiError('Chorus_NotFoundError', `no page file ${name}`);
  let raw = files.get(name);
  if (raw === undefined) {
    raw = readFileSync(new URL(`../ui/${name}`, import.meta.url), 'utf8');
    files.set(name, raw);
  }
  return { status: 200, raw, contentType };
}

export const pageHandlers = {
  index: () => Promise.resolve(uiFile('index.html')),
  file: (context: RequestContext) => Promise.resolve(uiFile(context.params.file ?? '')),
};
