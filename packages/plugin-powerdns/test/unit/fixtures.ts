import { readFileSync } from 'node:fs';

/** A response recorded from the lab's PowerDNS 4.7.3 (see fixtures/README.md). */
export function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}

export function jsonFixture(name: string): unknown {
  return JSON.parse(fixture(name));
}
