/**
 * Ultimate tic-tac-toe in real Chromium: a whole game against the computer played with the
 * keyboard alone (arrow keys across the 9×9 grid, Enter to play), a live game between two people
 * watched by a signed-out spectator, and a move without JavaScript.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { databaseKinds } from '../helpers/database.js';
import { board, cell, closeAll, GAME_PATH, launchBrowser, LIVE_MS, newPerson, PAGE_MS, playableCells, readStatus, register, waitForLive, waitForStatus, type Person } from '../helpers/browser.js';
import { innerOf, smallBoardOf } from '../../src/game/variants/ultimate.js';

const kind = databaseKinds.at(-1)!;
const FINAL = ['won', 'lost', 'draw'];

let browser: Browser;
let app: TestApp;
const people: Person[] = [];
const person = async (options?: Parameters<typeof newPerson>[2]) => {
  const p = await newPerson(browser, app.url, options);
  people.push(p);
  return p;
};

beforeAll(async () => {
  [browser, app] = await Promise.all([launchBrowser(), startTestApp(kind, { listen: true })]);
});
afterAll(async () => {
  await closeAll(people);
  await browser?.close();
  await app?.close();
});

/** From the lobby, an Ultimate game with the given button and choices; lands on its page. */
async function startUltimate(page: Page, button: string, choices: { difficulty?: string; playAs?: string } = {}): Promise<string> {
  await page.goto('/');
  await page.getByLabel('Variant').selectOption({ label: 'Ultimate' });
  if (choices.difficulty) await page.getByLabel('Difficulty').selectOption({ label: choices.difficulty });
  if (choices.playAs) await page.getByLabel('Play as').selectOption({ label: choices.playAs });
  await Promise.all([page.waitForURL((url) => GAME_PATH.test(url.pathname)), page.getByRole('button', { name: button, exact: true }).click()]);
  await board(page).waitFor();
  return page.url();
}

/** The number of moves in the page's list. */
const moveCount = (page: Page) => page.getByRole('list', { name: 'Moves' }).getByRole('listitem').count();

/** The small boards (0..8) whose buttons carry data-active. */
async function activeBoards(page: Page): Promise<Set<number>> {
  const cells = await board(page)
    .locator('button[data-active]')
    .evaluateAll((buttons) => buttons.map((b) => Number((b as HTMLElement).dataset.cell)));
  return new Set(cells.map(smallBoardOf));
}

/** Moves the keyboard focus (inside the grid) from the focused cell to `target` with arrow keys. */
async function arrowTo(page: Page, target: number): Promise<void> {
  const focused = await page.evaluate(() => Number((document.activeElement as HTMLElement | null)?.dataset.cell ?? -1));
  expect(focused, 'the focus should be on the board').toBeGreaterThanOrEqual(0);
  const [row, col] = [Math.floor(focused / 9), focused % 9];
  const [toRow, toCol] = [Math.floor(target / 9), target % 9];
  for (let i = 0; i < Math.abs(toRow - row); i++) await page.keyboard.press(toRow > row ? 'ArrowDown' : 'ArrowUp');
  for (let i = 0; i < Math.abs(toCol - col); i++) await page.keyboard.press(toCol > col ? 'ArrowRight' : 'ArrowLeft');
  expect(await page.evaluate(() => Number((document.activeElement as HTMLElement | null)?.dataset.cell))).toBe(target);
}

describe(`Ultimate in the browser (${kind} database)`, () => {
  it('plays a whole game against the computer with the keyboard alone', { timeout: 240_000 }, async () => {
    const p = await person();
    await register(p);
    const page = p.page;
    await startUltimate(page, 'Play the computer', { difficulty: 'Easy', playAs: 'X' });
    await waitForLive(page);
    expect(await board(page).getByRole('row').count()).toBe(9);
    expect(await board(page).locator('button[data-cell]').count()).toBe(81);
    // Onto the board with Tab: the focus lands on a square that can be played.
    await board(page).locator('button[tabindex="0"]').focus();
    let plies = 0;
    while (!FINAL.includes((await readStatus(page)).status)) {
      await waitForStatus(page, ['your-turn', ...FINAL], PAGE_MS);
      if (FINAL.includes((await readStatus(page)).status)) break;
      const playable = await playableCells(page);
      expect(playable.length).toBeGreaterThan(0);
      // Every playable square is in a lit (data-active) small board.
      const lit = await activeBoards(page);
      for (const c of playable) expect(lit.has(smallBoardOf(c))).toBe(true);
      const target = playable[Math.floor(playable.length / 2)]!;
      await arrowTo(page, target);
      const before = await moveCount(page);
      await page.keyboard.press('Enter');
      await page.waitForFunction((n) => document.querySelectorAll('#moves li').length > n, before, { timeout: PAGE_MS });
      plies++;
      // The computer answered in the small board the move sent it to (unless that board was closed).
      const status = await waitForStatus(page, ['your-turn', ...FINAL], PAGE_MS);
      if (status.status === 'your-turn') {
        expect(await page.locator('#game-where').textContent()).toMatch(/^You play in (board \d, [a-z ]+|any open board)\.$/);
      }
      expect(plies).toBeLessThan(41);
    }
    expect(FINAL).toContain((await readStatus(page)).status);
    expect(await moveCount(page)).toBeGreaterThanOrEqual(17);
    expect(p.errors).toEqual([]);
  });

  it('shows a live game between two people to a signed-out spectator', { timeout: 120_000 }, async () => {
    const alice = await person();
    const bob = await person();
    const watcher = await person();
    await Promise.all([register(alice), register(bob)]);
    const url = await startUltimate(alice.page, 'Invite a friend', { playAs: 'X' });
    await bob.page.goto(url);
    await bob.page.getByRole('button', { name: 'Join game' }).click();
    await waitForStatus(bob.page, 'their-turn');
    await watcher.page.goto(url);
    await Promise.all([alice, bob, watcher].map((x) => waitForLive(x.page)));
    await waitForStatus(alice.page, 'your-turn');

    // alice (X) plays board 5's top right cell: bob must answer in board 3, everyone sees it.
    await cell(alice.page, 32).click();
    for (const viewer of [alice, bob, watcher]) {
      await viewer.page.locator('button[data-cell="32"]', { hasText: 'X' }).waitFor({ timeout: LIVE_MS });
      expect(await activeBoards(viewer.page)).toEqual(new Set([2]));
    }
    await waitForStatus(bob.page, 'your-turn', LIVE_MS);
    expect(await bob.page.locator('#game-where').textContent()).toBe('You play in board 3, top right.');
    expect(await watcher.page.locator('#game-where').textContent()).toBe('O plays in board 3, top right.');
    expect((await readStatus(watcher.page)).status).toBe('o-turn');
    // bob plays board 3's bottom left cell (cell 24): alice is sent to board 7.
    expect(innerOf(24)).toBe(6);
    await cell(bob.page, 24).click();
    await watcher.page.locator('button[data-cell="24"]', { hasText: 'O' }).waitFor({ timeout: LIVE_MS });
    expect(await activeBoards(watcher.page)).toEqual(new Set([6]));
    // A square outside board 7 cannot be played, and says why.
    expect(await playableCells(alice.page)).toEqual(expect.arrayContaining([54, 55, 56, 63, 64, 65, 72, 73, 74]));
    expect((await playableCells(alice.page)).every((c) => smallBoardOf(c) === 6)).toBe(true);
    await cell(alice.page, 0).click({ force: true }); // aria-disabled: Playwright would wait for it to be enabled
    await alice.page.getByRole('alert').filter({ hasText: 'Not that board: you play in board 7, bottom left.' }).waitFor({ timeout: LIVE_MS });
    expect(await alice.page.locator('button[data-cell="0"]').textContent()).toBe('');

    await bob.page.getByRole('button', { name: 'Resign' }).click();
    await waitForStatus(watcher.page, 'x-won', LIVE_MS);
    for (const x of [alice, bob, watcher]) expect(x.errors).toEqual([]);
  });

  it('plays a move without JavaScript', { timeout: 60_000 }, async () => {
    const p = await person({ javaScriptEnabled: false });
    await register(p);
    const page = p.page;
    await startUltimate(page, 'Play the computer', { difficulty: 'Medium', playAs: 'X' });
    expect(await page.locator('button[data-cell]:not([disabled])').count()).toBe(81);
    await Promise.all([page.waitForLoadState('load'), cell(page, 40).click()]);
    await page.locator('button[data-cell="40"]', { hasText: 'X' }).waitFor({ timeout: PAGE_MS });
    // The computer answered in board 5 (the centre sends to the centre); X is sent on from there.
    const marks = await board(page).locator('button[data-cell]').evaluateAll((b) => b.map((x) => (x.textContent ?? '').trim()));
    const reply = marks.findIndex((m) => m === 'O');
    expect(smallBoardOf(reply)).toBe(4);
    const playable = await page.locator('button[data-cell]:not([disabled])').evaluateAll((b) => b.map((x) => Number((x as HTMLElement).dataset.cell)));
    expect(new Set(playable.map(smallBoardOf)).size).toBeGreaterThan(0);
    expect(await page.locator('#game-where').textContent()).toMatch(/^You play in (board \d, [a-z ]+|any open board)\.$/);
  });
});
