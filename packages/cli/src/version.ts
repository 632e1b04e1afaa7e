/** `chorus --version`: the CLI package's version, and the Node.js that runs it. */
import { readFileSync } from 'node:fs';

/** Read from the package's own package.json (one directory above src/ and dist/). */
export function chorusVersion(): string {
  const file = new URL('../package.json', import.meta.url);
  const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version: string };
  return version;
}

export function versionText(): string {
  return `chorus ${chorusVersion()} (Node.js ${process.version}, ${process.platform}-${process.arch})\n`;
}
