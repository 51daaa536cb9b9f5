/**
 * The look and feel in real Chromium: no horizontal scroll at 320 px on any page, light and dark
 * from the system setting, the mark animation off under prefers-reduced-motion, a favicon and a
 * social preview image, a move that shows at once and rolls back with words when refused; and the
 * screenshots of the main pages at phone and desktop sizes.
 *
 * Screenshots go to test-results/screenshots/readme/ (ignored by git). `npm run screenshots` writes them to
 * docs/screenshots/ instead, where the desktop ones are committed for the README: dates and names
 * on the pages would otherwise change the committed images on every run.
 */
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cell, DESKTOP, PHONE, readBoard, waitForStatus } from '../helpers/browser.js';
import { buildSite, openPage, sitePages, type Site } from './site-fixture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOTS = `${ROOT}${process.env.SCREENSHOTS_DIR ?? 'test-results/screenshots/readme'}`;
const NARROW = { width: 320, height: 640 };

let site: Site;
beforeAll(async () => {
  site = await buildSite();
}, 90_000);
afterAll(async () => {
  await site?.close();
});

/** How far the page scrolls sideways, and the elements that stick out past the right edge. */
async function overflow(page: Page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll<HTMLElement>('body *')]
      .filter((el) => el.getBoundingClientRect().right > width + 0.5 && el.getClientRects().length > 0)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${[...el.classList].join('.')} → ${Math.round(el.getBoundingClientRect().right)}`);
    return { scrollWidth: document.documentElement.scrollWidth, wide };
  });
}

describe('layout', () => {
  for (const who of ['visitor', 'signed-in'] as const) {
    it(`no horizontal scroll at 320 px on any page (${who})`, async () => {
      const p = who === 'visitor' ? await site.person({ viewport: NARROW }) : site.alice;
      await p.page.setViewportSize(NARROW);
      const problems: string[] = [];
      for (const { name, path } of sitePages(site).filter((s) => s.who === who || s.who === 'both')) {
        await openPage(p.page, path);
        const { scrollWidth, wide } = await overflow(p.page);
        if (scrollWidth > NARROW.width) problems.push(`${name} (${path}): ${scrollWidth} px wide: ${wide.join(', ')}`);
      }
      await p.page.setViewportSize(DESKTOP);
      expect(problems).toEqual([]);
    }, 90_000);
  }

  it('keeps the four replay steps on one row on a phone, under the position', async () => {
    const p = await site.person({ viewport: NARROW });
    await openPage(p.page, `${site.games.won}?ply=2`);
    const tops = await p.page.locator('#replay .button').evaluateAll((els) => els.map((e) => Math.round(e.getBoundingClientRect().top)));
    expect(tops).toHaveLength(4);
    expect(new Set(tops).size).toBe(1);
    const position = await p.page.locator('#replay-position').boundingBox();
    expect(position!.y + position!.height).toBeLessThanOrEqual(tops[0]! + 1);
  });

  it('follows the system colour scheme', async () => {
    const { page } = site.alice;
    await openPage(page, site.games.won);
    const colours = async (scheme: 'light' | 'dark') => {
      await page.emulateMedia({ colorScheme: scheme });
      return page.evaluate(() => ({
        body: getComputedStyle(document.body).backgroundColor,
        cell: getComputedStyle(document.querySelector('button[data-cell="8"]')!).backgroundColor,
      }));
    };
    await page.emulateMedia({ reducedMotion: 'reduce' }); // no colour transitions half-way
    const light = await colours('light');
    const dark = await colours('dark');
    await page.emulateMedia({ colorScheme: null, reducedMotion: null });
    expect(light.body).toBe('rgb(246, 247, 251)');
    expect(dark.body).toBe('rgb(16, 18, 26)');
    expect(dark.cell).not.toBe(light.cell);
  });

  it('marks the last move and the winning line, and animates a new mark unless motion is reduced', async () => {
    const { page } = site.alice;
    const animation = () => page.evaluate(() => getComputedStyle(document.querySelector('button[data-last]')!).animationName);
    await page.emulateMedia({ reducedMotion: 'no-preference' });
    await openPage(page, site.games.won);
    expect(await page.locator('button[data-last]').getAttribute('data-cell')).toBe('2');
    expect(await page.locator('button[data-win]').evaluateAll((b) => b.map((e) => (e as HTMLElement).dataset.cell))).toEqual(['0', '1', '2']);
    const winBackground = await page.locator('button[data-win]').first().evaluate((b) => getComputedStyle(b).backgroundColor);
    const plainBackground = await cell(page, 8).evaluate((b) => getComputedStyle(b).backgroundColor);
    expect(winBackground).not.toBe(plainBackground);
    expect(await animation()).toBe('mark-in');
    await page.emulateMedia({ reducedMotion: 'reduce' });
    expect(await animation()).toBe('none');
    await page.emulateMedia({ reducedMotion: null });
  });

  it('has a favicon, a second one for "your turn", and a social preview image', async () => {
    const { page } = site.alice;
    await openPage(page, site.games.people); // alice's turn
    const icon = page.locator('link[rel="icon"]');
    expect(await icon.getAttribute('href')).toMatch(/favicon-turn\.svg/);
    const image = await page.locator('meta[property="og:image"]').getAttribute('content');
    expect(image).toMatch(/\/static\/og-image\.png\?v=\w+$/);
    for (const url of [image!, (await page.locator('link[rel="apple-touch-icon"]').getAttribute('href'))!, await icon.getAttribute('href')]) {
      const res = await page.request.get(url!);
      expect(res.status(), url!).toBe(200);
    }
    const png = await (await page.request.get(image!)).body();
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1200, 630]);
    await openPage(page, site.games.won);
    expect(await page.locator('link[rel="icon"]').getAttribute('href')).toMatch(/\/favicon\.svg/);
  });
});

describe('feedback', () => {
  it('shows a played square at once, and rolls it back with the reason when the server refuses', async () => {
    const p = await site.person();
    await p.page.goto('/login');
    await p.page.getByLabel('Username').fill('pending');
    await p.page.getByLabel('Password', { exact: true }).fill('correct horse battery');
    await Promise.all([p.page.waitForURL((u) => u.pathname === '/'), p.page.getByRole('button', { name: 'Create account' }).click()]);
    await p.page.getByLabel('Play as').selectOption({ label: 'X' });
    await Promise.all([p.page.waitForURL(/\/games\//), p.page.getByRole('button', { name: 'Play the computer' }).click()]);
    await p.page.locator('#connection[data-state="live"]').waitFor({ state: 'attached' });
    await waitForStatus(p.page, 'your-turn');

    // In the same task as the click: the square is busy with a faint mark and no square is playable.
    const shown = await p.page.evaluate(() => {
      const started = performance.now();
      const button = document.querySelector<HTMLButtonElement>('button[data-cell="4"]')!;
      button.click();
      return {
        busy: button.getAttribute('aria-busy'),
        pending: button.dataset.pending,
        playable: document.querySelectorAll('button[data-cell]:not([aria-disabled="true"])').length,
        ms: performance.now() - started,
      };
    });
    expect(shown).toMatchObject({ busy: 'true', pending: 'X', playable: 0 });
    expect(shown.ms).toBeLessThan(100);
    await waitForStatus(p.page, 'your-turn');
    expect((await readBoard(p.page))[4]).toBe('X');

    // A move for a position the server no longer has is refused: the square is empty and playable again.
    const target = (await readBoard(p.page)).findIndex((m) => m === '');
    await p.page.evaluate(() => (document.querySelector<HTMLInputElement>('input[name="ply"]')!.value = '0'));
    await cell(p.page, target).click();
    await p.page.getByRole('alert').filter({ hasText: 'The board changed since you saw it' }).waitFor();
    expect((await readBoard(p.page))[target]).toBe('');
    expect(await cell(p.page, target).getAttribute('aria-busy')).toBeNull();
    expect(await cell(p.page, target).getAttribute('data-pending')).toBeNull();
    expect(await cell(p.page, target).getAttribute('aria-disabled')).toBeNull();
    expect(p.errors).toEqual([]);
  });
});

describe('screenshots', () => {
  async function shoot(page: Page, name: string) {
    mkdirSync(SHOTS, { recursive: true });
    for (const [size, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      await page.setViewportSize(viewport);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: `${SHOTS}/${name}-${size}.png`, fullPage: size === 'phone', animations: 'disabled', caret: 'hide' });
    }
    await page.setViewportSize(DESKTOP);
  }

  it('of login, lobby, a game in progress, a won game, an Ultimate game and a profile, at phone and desktop sizes', async () => {
    const visitor = await site.person();
    await openPage(visitor.page, '/login');
    await shoot(visitor.page, 'login');

    // Something in every lobby list: an open game by carol, alice's games, a live game to watch.
    await site.carol.page.goto('/');
    await site.carol.page.getByLabel('Play as').selectOption({ label: 'O' });
    await Promise.all([site.carol.page.waitForURL(/\/games\//), site.carol.page.getByRole('button', { name: 'Create open game' }).click()]);
    const { page } = site.alice;
    await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'reduce' });
    await openPage(page, '/');
    await page.getByRole('button', { name: 'Join carol plays O' }).waitFor();
    await shoot(page, 'lobby');

    await openPage(site.bob.page, site.games.people); // bob is there: not shown as away
    await openPage(page, site.games.people);
    await waitForStatus(page, 'your-turn');
    await page.locator('button[data-cell="2"]').focus(); // shows the focus ring of a keyboard user
    await shoot(page, 'game-in-progress');

    await openPage(page, site.games.won);
    await shoot(page, 'game-won');

    await openPage(site.bob.page, site.games.ultimate);
    await openPage(page, site.games.ultimate);
    await waitForStatus(page, 'your-turn');
    await shoot(page, 'ultimate');

    await openPage(page, '/users/alice');
    await shoot(page, 'profile');

    await page.emulateMedia({ colorScheme: 'dark' });
    await openPage(page, site.games.won);
    await shoot(page, 'game-won-dark');
    await page.emulateMedia({ colorScheme: null, reducedMotion: null });
  }, 90_000);
});
