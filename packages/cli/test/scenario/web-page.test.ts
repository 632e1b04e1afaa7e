/**
 * The web page of `chorus serve` in real Chromium (Debian's `chromium`, driven by puppeteer-core;
 * nothing is downloaded). A lab of its own on 127.91.0 (or $CHORUS_TEST_WEB_PREFIX) with sidecars
 * for BIND, PowerDNS and Knot and the zone signed by BIND. An operator signs in on the page and:
 * 1. adds PowerDNS with the Start button, watching the countdown, until it completes;
 * 2. starts adding Knot, clicks Stop while it waits, then Undo, which removes Knot again.
 * The servers then serve what the page said: the parent holds the DS of BIND and PowerDNS only,
 * and no server publishes a key of Knot's. A viewer sees no button. Screenshots are kept in
 * $CHORUS_ARTIFACTS_DIR/web-page (default artifacts/web-page at the repository's root).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { DnskeyData } from '@chorus/core';
import { keyTag, query } from '@chorus/dns';
import type { LabServer, LabStatus } from '@chorus/lab';
import { createToken } from '@chorus/serve';
import { labServer, startServedLab, ZONE, type Cleanup } from './served-lab.js';

const PREFIX = process.env.CHORUS_TEST_WEB_PREFIX ?? '127.91.0';
const CHROMIUM = process.env.CHORUS_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const ARTIFACTS = path.join(
  process.env.CHORUS_ARTIFACTS_DIR ?? path.join(ROOT, 'artifacts'),
  'web-page',
);
/** A process through the page: its waits at TTL 5 s, the parent's scans, a loaded machine. */
const PROCESS_TIMEOUT_MS = 180_000;

const cleanup: Cleanup = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

const endpoint = (server: LabServer) => ({ address: server.address, port: server.port });

/** The key tags `server` publishes for the zone. */
async function publishedTags(server: LabServer): Promise<number[]> {
  const answer = await query(endpoint(server), ZONE, 'DNSKEY', { transport: 'tcp' });
  const set = answer.answers.find((rrset) => rrset.type === 'DNSKEY');
  return (set?.records ?? []).map((record) => keyTag(record as DnskeyData)).sort();
}

async function parentDsTags(lab: LabStatus): Promise<number[]> {
  const answer = await query(endpoint(labServer(lab, 'parent')), ZONE, 'DS', { transport: 'tcp' });
  const set = answer.answers.find((rrset) => rrset.type === 'DS');
  return (set?.records ?? []).map((record) => (record as { keyTag: number }).keyTag).sort();
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Waits until the history on the page shows `count` processes of `label` with `status`. */
async function waitForHistory(page: Page, label: string, status: string, count = 1) {
  await page.waitForFunction(
    (wanted: string, wantedStatus: string, howMany: number) =>
      [...document.querySelectorAll('#processes li')].filter(
        (item) =>
          item.getAttribute('data-status') === wantedStatus &&
          item.querySelector('strong')?.textContent === wanted,
      ).length >= howMany,
    { timeout: PROCESS_TIMEOUT_MS, polling: 500 },
    label,
    status,
    count,
  );
}

/** The countdown of the process in flight for `label`, once it is in a mandated wait. */
async function waitForCountdown(page: Page, label: string): Promise<string> {
  const handle = await page.waitForFunction(
    (wanted: string) => {
      const item = [...document.querySelectorAll('#in-flight li')].find(
        (entry) => entry.querySelector('strong')?.textContent === wanted,
      );
      const text = item?.querySelector('.countdown')?.textContent ?? '';
      return / left$/.test(text) ? text : false;
    },
    { timeout: PROCESS_TIMEOUT_MS, polling: 200 },
    label,
  );
  return (await handle.jsonValue()) as string;
}

async function signIn(page: Page, url: string, token: string) {
  await page.goto(url);
  await page.type('#token', token);
  await page.click('#use-token');
  await page.waitForSelector(`[data-zone="${ZONE}"]`);
  await page.waitForSelector('#signers tbody tr[data-signer="knot"]');
}

describe('the web page in Chromium', () => {
  it('adds a signer, stops a second join mid-wait and undoes it, and the servers agree', async () => {
    // Installed by the README's set-up (scripts/bootstrap.sh): a missing browser fails the test.
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`).toBe(true);
    await mkdir(ARTIFACTS, { recursive: true });
    const { lab, url, tokensFile } = await startServedLab({
      name: 'web-lab',
      prefix: PREFIX,
      signers: ['bind', 'powerdns', 'knot'],
      cleanup,
    });
    const server = { url };
    const operator = await createToken(tokensFile, 'olga', 'operator');
    const viewer = await createToken(tokensFile, 'vic', 'viewer');

    const browser: Browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
    cleanup.push(() => browser.close());
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    // The page needs no network beyond chorus serve: record anything else it asks for.
    const elsewhere: string[] = [];
    page.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(server.url) && !url.startsWith('blob:') && !url.startsWith('data:'))
        elsewhere.push(url);
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(String(error)));

    await signIn(page, server.url, operator);
    expect(await page.$eval('#who', (node) => node.textContent)).toBe('olga (operator)');
    expect(await parentDsTags(lab)).toHaveLength(1);

    // 1. ADD-SIGNER powerdns from the Start button.
    await page.select('#kind', 'add-signer');
    await page.select('#signer', 'powerdns');
    await page.click('#start');
    const countdown = await waitForCountdown(page, 'add-signer powerdns');
    expect(countdown).toMatch(/^waiting for .+: (\d+ min )?\d+ s left$/);
    await screenshot(page, '1-add-signer-waiting');
    await waitForHistory(page, 'add-signer powerdns', 'completed');
    await page.waitForFunction(
      () => document.querySelectorAll('#processes figure.timeline img[src^="blob:"]').length > 0,
      { timeout: 30_000 },
    );
    await screenshot(page, '2-add-signer-completed');
    const bindAndPowerdns = await parentDsTags(lab);
    expect(bindAndPowerdns).toHaveLength(2);

    // 2. ADD-SIGNER knot, stopped in its first mandated wait, then undone.
    await page.select('#signer', 'knot');
    await page.click('#start');
    await waitForCountdown(page, 'add-signer knot');
    const stopButton = await page.waitForSelector('#in-flight li button.stop');
    await stopButton!.click();
    await waitForHistory(page, 'add-signer knot', 'stopped');
    await screenshot(page, '3-add-signer-knot-stopped');
    const knotTags = await keyTagsOf(server.url, operator, 'knot');
    expect(knotTags.length).toBeGreaterThan(0);
    await page.click('#undo');
    await waitForHistory(page, 'remove-signer knot', 'completed');
    await screenshot(page, '4-undone');

    // What the servers serve now: BIND's and PowerDNS's keys, none of Knot's, and the same DS.
    expect(await parentDsTags(lab)).toEqual(bindAndPowerdns);
    for (const id of ['bind', 'powerdns']) {
      const tags = await publishedTags(labServer(lab, id));
      expect(tags.length, id).toBeGreaterThan(0);
      for (const tag of knotTags)
        expect(tags, `${id} still publishes knot's ${tag}`).not.toContain(tag);
    }
    const summary = await page.$eval('#zone-summary', (node) => node.textContent ?? '');
    expect(summary).toMatch(/^members: bind, powerdns\b/);
    expect(await page.$eval('#glitches', (node) => node.textContent)).toMatch(/^Glitches: \d+/);

    // The audit from the page, against the lab's parent.
    const parent = labServer(lab, 'parent');
    await page.type('#parent-server', `${parent.address}:${parent.port}`);
    await page.type('#child-port', String(labServer(lab, 'bind').port));
    await page.click('#audit');
    await page.waitForSelector('#audit-checks tbody tr', { timeout: 60_000 });
    expect(await page.$eval('#audit-summary', (node) => node.textContent)).toMatch(
      /^example\.test\.: (pass|warn)/,
    );
    await screenshot(page, '5-audit');

    // A viewer sees the zone but no button that changes anything.
    const viewerPage = await (await browser.createBrowserContext()).newPage();
    await signIn(viewerPage, server.url, viewer);
    expect(await viewerPage.$eval('#controls', (node) => (node as HTMLElement).hidden)).toBe(true);
    expect(await viewerPage.$$('#in-flight button.stop')).toHaveLength(0);

    expect(elsewhere).toEqual([]);
    expect(pageErrors).toEqual([]);
    process.stderr.write(`[web-page] screenshots in ${ARTIFACTS}\n`);
  }, 600_000);
});

/** A signer's key tags as the API lists them. */
async function keyTagsOf(url: string, token: string, signerId: string): Promise<number[]> {
  const response = await fetch(`${url}/v1/zones/${ZONE}/signers`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const { signers } = (await response.json()) as {
    signers: { id: string; keys: { keyTag: number }[] }[];
  };
  return signers.find((signer) => signer.id === signerId)!.keys.map((key) => key.keyTag);
}
