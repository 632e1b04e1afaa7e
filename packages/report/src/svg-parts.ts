/** Text for the SVG pictures: 11px monospace, coloured parts, cut to fit. */
import { UNKNOWN_OWNER_COLOUR } from './format.js';
import { escapeXml } from './xml.js';

export const CHAR_WIDTH = 6.6; // 11px monospace
/** Spaces at the edge of a <tspan> collapse; separators use no-break spaces. */
export const NBSP = '\u00a0';

/** Rounds to 0.1 px so the output stays short and stable. */
export const n = (value: number): string => String(Math.round(value * 10) / 10);

export interface Part {
  text: string;
  colour: string;
  bold?: boolean;
}

/** As many characters of `parts` as fit in `width` pixels, cut with an ellipsis. */
export function fitParts(parts: readonly Part[], width: number): Part[] {
  const max = Math.floor(width / CHAR_WIDTH);
  const total = parts.reduce((sum, part) => sum + [...part.text].length, 0);
  if (total <= max) return [...parts];
  if (max < 2) return [];
  const fitted: Part[] = [];
  let left = max - 1;
  for (const part of parts) {
    const chars = [...part.text];
    if (chars.length <= left) {
      fitted.push(part);
      left -= chars.length;
      continue;
    }
    if (left > 0) fitted.push({ ...part, text: chars.slice(0, left).join('') });
    break;
  }
  fitted.push({ text: '…', colour: UNKNOWN_OWNER_COLOUR });
  return fitted;
}

export const fit = (text: string, width: number): string =>
  fitParts([{ text, colour: '' }], width)
    .map((part) => part.text)
    .join('');

export function textElement(x: number, y: number, parts: readonly Part[], attributes = ''): string {
  if (parts.length === 0) return '';
  const spans = parts
    .map(
      (part) =>
        `<tspan fill="${escapeXml(part.colour)}"${part.bold ? ' font-weight="bold"' : ''}>${escapeXml(part.text)}</tspan>`,
    )
    .join('');
  return `<text x="${n(x)}" y="${n(y)}"${attributes}>${spans}</text>`;
}
