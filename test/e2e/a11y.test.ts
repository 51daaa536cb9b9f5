/**
 * Accessibility in real Chromium: axe-core finds no WCAG 2.1 AA violation on any page, signed out
 * and signed in, in light and dark; a whole game against the computer is played with the keyboard
 * alone; and the live region says each move and result once, in words, checked word for word.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bestMove, board, cell, LIVE_MS, readBoard, register, waitForLive, waitForMark, waitForStatus, type Person } from '../helpers/browser.js';
import { buildSite, openPage, sitePages, type Site } from './site-fixture.js';

const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

let site: Site;
beforeAll(async () => {
  site = await buildSite();
}, 90_000);
afterAll(async () => {
  await site?.close();
});

/** axe's findings on the page as one readable line each: rule, impact, where, why. */
async function axeViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(WCAG_21_AA).analyze();
  return results.violations.flatMap((v) =>
    v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')} — ${n.failureSummary?.replace(/\s+/g, ' ')}`),
  );
}

describe('axe: zero WCAG 2.1 AA violations on every page', () => {
  for (const scheme of ['light', 'dark'] as const) {
    for (const who of ['visitor', 'signed-in'] as const) {
      it(`${who}, ${scheme}`, async () => {
        const p = who === 'visitor' ? await site.person() : site.alice;
        await p.page.emulateMedia({ colorScheme: scheme });
        const found: string[] = [];
        let checked = 0;
        for (const { name, path } of sitePages(site).filter((s) => s.who === who || s.who === 'both')) {
          await openPage(p.page, path);
          for (const line of await axeViolations(p.page)) found.push(`${name} (${path}): ${line}`);
          checked += 1;
        }
        expect(found).toEqual([]);
        expect(checked).toBeGreaterThanOrEqual(12);
        await p.page.emulateMedia({ colorScheme: null });
      }, 120_000);
    }
  }

  it('also with a refused move on show, a pending move, a hint and the finished game as the loser', async () => {
    const { page } = site.bob;
    // bob's view of the game he lost, and of a game where it is not his turn.
    await openPage(page, site.games.won);
    const found = (await axeViolations(page)).map((l) => `lost game: ${l}`);
    await openPage(page, site.games.people);
    // Pressing a square out of turn shows the reason in the alert box.
    await cell(page, 8).click({ force: true });
    await page.getByRole('alert').filter({ hasText: 'It is not your turn yet.' }).waitFor();
    found.push(...(await axeViolations(page)).map((l) => `refused move: ${l}`));
    expect(found).toEqual([]);
  }, 60_000);
});

/** Presses Tab until the focus is on a cell of the board; returns how many presses it took. */
async function tabToBoard(page: Page, limit = 30): Promise<number> {
  for (let presses = 1; presses <= limit; presses++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.closest('[role="grid"]') !== null)) return presses;
  }
  throw new Error(`the board was not reached in ${limit} presses of Tab`);
}

const focusedCell = (page: Page) => page.evaluate(() => Number((document.activeElement as HTMLElement | null)?.dataset.cell ?? -1));

/** Arrow keys from the focused cell to `target`. */
async function arrowTo(page: Page, target: number) {
  let at = await focusedCell(page);
  while (at !== target) {
    const [row, col, trow, tcol] = [Math.floor(at / 3), at % 3, Math.floor(target / 3), target % 3];
    const key = trow > row ? 'ArrowDown' : trow < row ? 'ArrowUp' : tcol > col ? 'ArrowRight' : 'ArrowLeft';
    await page.keyboard.press(key);
    const next = await focusedCell(page);
    expect(next, `${key} from ${at}`).not.toBe(at);
    at = next;
  }
}

/** The one cell in the tab order, and whether the focus on it can be seen. */
async function gridState(page: Page) {
  return page.evaluate(() => {
    const cells = [...document.querySelectorAll<HTMLButtonElement>('[role="grid"] button[data-cell]')];
    const focused = document.activeElement as HTMLElement | null;
    const style = focused ? getComputedStyle(focused) : null;
    return {
      tabStops: cells.filter((c) => c.tabIndex === 0).map((c) => Number(c.dataset.cell)),
      disabled: cells.filter((c) => c.disabled).length,
      ariaDisabled: cells.filter((c) => c.getAttribute('aria-disabled') === 'true').map((c) => Number(c.dataset.cell)),
      outline: style ? `${style.outlineStyle} ${parseFloat(style.outlineWidth)}` : '',
    };
  });
}

describe('the keyboard alone', () => {
  it('registers, starts a game against the computer, plays it to the end on the board with arrows and Enter, then Rematch', async () => {
    const p = await site.person();
    const { page } = p;
    // Registration: Tab through the login page and type.
    await page.goto('/login');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('field-username'); // autofocus
    await page.keyboard.type('keyboarder');
    await page.keyboard.press('Tab');
    await page.keyboard.type('correct horse battery');
    await page.keyboard.press('Tab'); // Log in
    await page.keyboard.press('Tab'); // Create account
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Create account');
    await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.keyboard.press('Enter')]);

    // The lobby: Tab to Difficulty, choose by typing, Tab to Play as, then to Play the computer.
    await page.getByRole('button', { name: 'Play the computer' }).waitFor();
    for (let i = 0; i < 20 && (await page.evaluate(() => document.activeElement?.id)) !== 'level'; i++) await page.keyboard.press('Tab');
    await page.keyboard.type('Perfect');
    expect(await page.getByLabel('Difficulty').inputValue()).toBe('perfect');
    await page.keyboard.press('Tab');
    await page.keyboard.type('X');
    expect(await page.getByLabel('Play as').inputValue()).toBe('X');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Play the computer');
    await Promise.all([page.waitForURL(/\/games\//), page.keyboard.press('Enter')]);
    await waitForLive(page);

    // The board takes one Tab stop; from the top of the page it is a few presses away.
    const presses = await tabToBoard(page);
    expect(presses).toBeLessThanOrEqual(10);
    let state = await gridState(page);
    expect(state.tabStops).toHaveLength(1);
    expect(state.disabled).toBe(0);
    expect(state.outline).toMatch(/^solid [3-9]/);

    for (let turn = 0; ; turn++) {
      const { status } = await waitForStatus(page, ['your-turn', 'won', 'lost', 'draw']);
      if (status !== 'your-turn') break;
      expect(turn).toBeLessThan(5);
      const marks = await readBoard(page);
      const ply = marks.filter(Boolean).length;
      // Taken squares can be visited but not played.
      expect((await gridState(page)).ariaDisabled).toEqual(marks.flatMap((m, i) => (m ? [i] : [])));
      const target = bestMove(marks, 'X');
      await arrowTo(page, target);
      await page.keyboard.press('Enter');
      await page.getByRole('list', { name: 'Moves' }).getByRole('listitem').nth(ply).waitFor();
      // After the computer's answer the focus is still on the square just played, and visible.
      expect(await focusedCell(page)).toBe(target);
      state = await gridState(page);
      expect(state.tabStops).toEqual([target]);
      expect(state.outline).toMatch(/^solid [3-9]/);
    }
    expect((await waitForStatus(page, ['draw', 'lost'])).status).toBe('draw');

    // Home/End and Ctrl+Home/End still move around a finished board.
    await page.keyboard.press('Control+Home');
    expect(await focusedCell(page)).toBe(0);
    await page.keyboard.press('End');
    expect(await focusedCell(page)).toBe(2);
    await page.keyboard.press('Control+End');
    expect(await focusedCell(page)).toBe(8);
    await page.keyboard.press('Home');
    expect(await focusedCell(page)).toBe(6);
    // Enter on a square of a finished game says why nothing happens.
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'The game is over.' }).waitFor();

    // Tab leaves the board in one press and reaches Rematch; Enter starts the next game.
    const gameUrl = page.url();
    for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement?.textContent)) !== 'Rematch'; i++) await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Rematch');
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.href !== gameUrl && /\/games\//.test(u.pathname));
    await waitForStatus(page, 'your-turn');
    expect(p.errors).toEqual([]);
  }, 90_000);

  it('keeps the focus on the same square when the opponent moves', async () => {
    const [x, o] = [await site.person(), await site.person()];
    await Promise.all([register(x), register(o)]);
    await x.page.getByRole('button', { name: 'Invite a friend' }).click();
    await board(x.page).waitFor();
    const url = x.page.url();
    await o.page.goto(url);
    await Promise.all([o.page.waitForURL(url), o.page.getByRole('button', { name: 'Join game' }).click()]);
    await Promise.all([waitForLive(x.page), waitForLive(o.page)]);
    await waitForStatus(x.page, 'your-turn', LIVE_MS);
    // O waits on square 7 while X plays square 4.
    await tabToBoard(o.page);
    await arrowTo(o.page, 7);
    await cell(x.page, 4).click();
    await waitForMark(o.page, 4, 'X');
    await waitForStatus(o.page, 'your-turn', LIVE_MS);
    expect(await focusedCell(o.page)).toBe(7);
    await o.page.keyboard.press('Space');
    await waitForMark(x.page, 7, 'O');
    expect(await focusedCell(o.page)).toBe(7);
  }, 60_000);
});

/** Records every message the live region is given, from the first paint on. */
async function recordAnnouncements(p: Person) {
  await p.page.addInitScript(() => {
    const heard: string[] = [];
    (window as unknown as { __heard: string[] }).__heard = heard;
    new MutationObserver((mutations) => {
      for (const m of mutations) {
        if ((m.target as Element).id !== 'announcer') continue;
        for (const node of m.addedNodes) if (node.textContent) heard.push(node.textContent);
      }
    }).observe(document, { childList: true, subtree: true });
  });
}

const heard = (page: Page) => page.evaluate(() => (window as unknown as { __heard: string[] }).__heard);

/** Waits until the page has heard `count` messages, then a little longer to catch any extra. */
async function heardAfter(page: Page, count: number): Promise<string[]> {
  await expect.poll(async () => (await heard(page)).length, { timeout: LIVE_MS }).toBeGreaterThanOrEqual(count);
  await page.waitForTimeout(150);
  return heard(page);
}

describe('the live region, word for word', () => {
  it('against the computer: each of my moves with its answer, then the result', async () => {
    const p = await site.person();
    await recordAnnouncements(p);
    await register(p, 'listener');
    await p.page.getByLabel('Play as').selectOption({ label: 'X' });
    await Promise.all([p.page.waitForURL(/\/games\//), p.page.getByRole('button', { name: 'Play the computer' }).click()]);
    await waitForLive(p.page);
    expect(await p.page.title()).toBe('Your turn · Game against Computer (Perfect) · Tic-Tac-Toe Online');
    // With random() = 0 the computer's answers are fixed: O takes 0, 3, 6 and wins down the left.
    const expected = [
      'X played row 1, column 2. O played row 1, column 1. Your turn.',
      'X played row 1, column 3. O played row 2, column 1. Your turn.',
      'X played row 2, column 3. O played row 3, column 1. You lost.',
    ];
    for (const [i, target] of [1, 2, 5].entries()) {
      await cell(p.page, target).click();
      expect(await heardAfter(p.page, i + 1)).toEqual(expected.slice(0, i + 1));
    }
    expect(await p.page.title()).toBe('You lost · Game against Computer (Perfect) · Tic-Tac-Toe Online');
    // The status element itself is not a second voice.
    expect(await p.page.locator('[data-status]').getAttribute('aria-live')).toBe('off');
    expect(await p.page.locator('[aria-live="polite"], [aria-live="assertive"]').count()).toBe(1);
  }, 60_000);

  it('between people: each player and a spectator hear each move once, with whose turn it is, then the result and the rematch offer', async () => {
    const [x, o, watcher] = [await site.person(), await site.person(), await site.person()];
    for (const p of [x, o, watcher]) await recordAnnouncements(p);
    const [xName, oName] = await Promise.all([register(x, 'xavier'), register(o, 'olivia'), register(watcher, 'wendy')]);
    await x.page.getByLabel('Play as').selectOption({ label: 'X' });
    await Promise.all([x.page.waitForURL(/\/games\//), x.page.getByRole('button', { name: 'Invite a friend' }).click()]);
    const url = x.page.url();
    await waitForLive(x.page);
    expect(await x.page.title()).toBe('Waiting for an opponent · New game · Tic-Tac-Toe Online');
    await o.page.goto(url);
    await Promise.all([o.page.waitForURL(url), o.page.getByRole('button', { name: 'Join game' }).click()]);
    await waitForLive(o.page);
    expect(await heardAfter(x.page, 1)).toEqual(['olivia joined. Your turn.']);
    expect(await x.page.title()).toBe('Your turn · Game against olivia · Tic-Tac-Toe Online');
    expect(await o.page.title()).toBe("xavier's turn · Game against xavier · Tic-Tac-Toe Online");
    await watcher.page.goto(url);
    await waitForLive(watcher.page);
    expect(await watcher.page.title()).toBe('xavier (X) to move · xavier vs olivia · Tic-Tac-Toe Online');

    const game: [number, 'X' | 'O'][] = [
      [0, 'X'],
      [3, 'O'],
      [1, 'X'],
      [4, 'O'],
      [2, 'X'],
    ];
    for (const [index, mark] of game) {
      const mover = mark === 'X' ? x.page : o.page;
      await waitForStatus(mover, 'your-turn', LIVE_MS);
      await cell(mover, index).click();
      await Promise.all([x.page, o.page, watcher.page].map((page) => waitForMark(page, index, mark)));
    }
    await waitForStatus(o.page, 'lost', LIVE_MS);
    expect(xName).toBe('xavier');
    expect(oName).toBe('olivia');

    expect(await heardAfter(x.page, 6)).toEqual([
      'olivia joined. Your turn.',
      "X played row 1, column 1. olivia's turn.",
      'O played row 2, column 1. Your turn.',
      "X played row 1, column 2. olivia's turn.",
      'O played row 2, column 2. Your turn.',
      'X played row 1, column 3. You won.',
    ]);
    expect(await heardAfter(o.page, 5)).toEqual([
      'X played row 1, column 1. Your turn.',
      "O played row 2, column 1. xavier's turn.",
      'X played row 1, column 2. Your turn.',
      "O played row 2, column 2. xavier's turn.",
      'X played row 1, column 3. You lost.',
    ]);
    expect(await heardAfter(watcher.page, 5)).toEqual([
      'X played row 1, column 1. olivia (O) to move.',
      'O played row 2, column 1. xavier (X) to move.',
      'X played row 1, column 2. olivia (O) to move.',
      'O played row 2, column 2. xavier (X) to move.',
      'X played row 1, column 3. xavier (X) won.',
    ]);
    expect(await x.page.title()).toBe('You won · Game against olivia · Tic-Tac-Toe Online');

    // A rematch offer is news for both.
    await x.page.getByRole('button', { name: 'Rematch' }).click();
    expect((await heardAfter(x.page, 7)).at(-1)).toBe('Rematch offered. Waiting for olivia to accept.');
    expect((await heardAfter(o.page, 6)).at(-1)).toBe('xavier wants a rematch.');
    expect(await heard(watcher.page)).toHaveLength(5);
    for (const p of [x, o, watcher]) expect(p.errors).toEqual([]);
  }, 90_000);
});
