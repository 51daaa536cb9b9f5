/**
 * Real Chromium against the computer: at Perfect the person never wins, whatever they play and
 * whichever mark they take; and with JavaScript disabled the whole game works with form posts.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { WINNING_LINES } from '../helpers/consistency.js';
import { databaseKinds } from '../helpers/database.js';
import {
  bestMove,
  board,
  cell,
  closeAll,
  hasMarker,
  launchBrowser,
  newPerson,
  PLAYABLE_CELL,
  playableCells,
  readBoard,
  readStatus,
  register,
  screenshots,
  setMarker,
  startGame,
  waitForLive,
  waitForOtherGame,
  waitForStatus,
  type Person,
} from '../helpers/browser.js';

const FINAL = ['won', 'lost', 'draw'];

function lineOf(marks: string[], mark: 'X' | 'O'): readonly number[] | undefined {
  return WINNING_LINES.find((line) => line.every((i) => marks[i] === mark));
}

function moves(page: Page) {
  return page.getByRole('list', { name: 'Moves' }).getByRole('listitem');
}

type Strategy = (marks: string[], me: 'X' | 'O') => number;
const strategies: Record<string, Strategy> = {
  /** Plays to win: the best move by a full search (perfect play draws at best). */
  minimax: bestMove,
  /** Naive: the first empty cell, top left first. */
  'first empty cell': (marks) => marks.findIndex((m) => m === ''),
};

/**
 * One database for this file: the real server when there is one (cheap to start, and the people
 * tests already cover the embedded one), else the embedded one.
 */
const kind = databaseKinds.at(-1)!;

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

describe(`the computer at Perfect, in the browser (${kind} database)`, () => {
  let player: Person;
  beforeAll(async () => {
    player = await person();
    await register(player);
  });
  afterEach(() => {
    expect(player.errors).toEqual([]);
  });

  it.each([
    ['X', 'minimax'],
    ['O', 'minimax'],
    ['X', 'first empty cell'],
    ['O', 'first empty cell'],
  ] as const)('playing %s with %s, the person never wins', async (me, strategyName) => {
    const { page } = player;
    await startGame(page, 'Play the computer', { difficulty: 'Perfect', playAs: me });
    const computer = me === 'X' ? 'O' : 'X';
    expect(await page.getByRole('list', { name: 'Players' }).getByRole('listitem').filter({ hasText: `plays ${computer}` }).textContent()).toContain(
      'Computer (Perfect)',
    );
    // As O, the computer has already opened when the page shows.
    expect((await readBoard(page)).filter(Boolean)).toHaveLength(me === 'X' ? 0 : 1);
    await waitForLive(page);
    await setMarker(page, `${me} ${strategyName}`);

    const choose = strategies[strategyName]!;
    for (let turn = 0; ; turn++) {
      const { status } = await waitForStatus(page, ['your-turn', ...FINAL]);
      if (status !== 'your-turn') break;
      expect(turn).toBeLessThan(5);
      const marks = await readBoard(page);
      const ply = marks.filter(Boolean).length;
      const choice = choose(marks, me);
      // Exactly the empty cells are playable.
      const enabled = await playableCells(page);
      expect(enabled).toEqual(marks.flatMap((m, i) => (m === '' ? [i] : [])));
      await cell(page, choice).click();
      // The state that answers the move already holds the computer's reply (same transaction).
      await moves(page).nth(ply).waitFor();
      const after = await readBoard(page);
      expect(after[choice]).toBe(me);
      if (!lineOf(after, me) && after.some((m) => m === '')) {
        expect(after.filter(Boolean)).toHaveLength(ply + 2);
      }
    }

    const final = await readStatus(page);
    const marks = await readBoard(page);
    expect(lineOf(marks, me)).toBeUndefined();
    expect(['lost', 'draw']).toContain(final.status);
    expect(final.text).toBe(final.status === 'lost' ? 'You lost' : 'Draw');
    if (final.status === 'lost') {
      const line = lineOf(marks, computer)!;
      expect(line).toBeDefined();
      const win = await board(page)
        .locator('button[data-win]')
        .evaluateAll((buttons) => buttons.map((b) => Number((b as HTMLElement).dataset.cell)));
      expect(win).toEqual(line);
    } else {
      expect(marks.every(Boolean)).toBe(true);
    }
    expect(await moves(page).count()).toBe(marks.filter(Boolean).length);
    // Played live: the same document all game.
    expect(await hasMarker(page, `${me} ${strategyName}`)).toBe(true);
    if (me === 'O' && strategyName === 'minimax') await screenshots(page, 'game-computer-draw');
  });
});

describe(`without JavaScript (${kind} database)`, () => {
  it('registers, plays a full game against the computer (Easy) with form posts, then Rematch and Resign', async () => {
    const p = await person({ javaScriptEnabled: false });
    await register(p);
    const gameUrl = await startGame(p.page, 'Play the computer', { difficulty: 'Easy', playAs: 'X' });
    const { page } = p;
    // No script runs: no live connection indicator.
    expect(await page.locator('#connection').isVisible()).toBe(false);
    expect(await readStatus(page)).toEqual({ status: 'your-turn', text: 'Your turn' });

    for (let turn = 0; ; turn++) {
      const { status } = await readStatus(page);
      if (FINAL.includes(status)) break;
      expect(turn).toBeLessThan(5);
      expect(status).toBe('your-turn');
      const marks = await readBoard(page);
      const ply = marks.filter(Boolean).length;
      const navigations = p.navigations();
      // Each empty cell is a submit button of the move form; the post redirects back to the game.
      await page.getByRole('grid', { name: 'Board' }).locator(PLAYABLE_CELL).first().click();
      await moves(page).nth(ply).waitFor();
      await page.waitForLoadState('load');
      expect(p.navigations()).toBeGreaterThan(navigations);
      expect(page.url()).toBe(gameUrl);
    }
    const final = await readStatus(page);
    expect(FINAL).toContain(final.status);
    expect(final.text).toMatch(/^(You won|You lost|Draw)$/);
    const marks = await readBoard(page);
    expect(await moves(page).count()).toBe(marks.filter(Boolean).length);
    expect(await playableCells(page)).toEqual([]);

    // Rematch is a form too: against the computer it starts at once, colours swapped.
    await page.getByRole('button', { name: 'Rematch' }).click();
    const next = await waitForOtherGame(page, gameUrl);
    expect(next).not.toBe(gameUrl);
    expect(await readStatus(page)).toEqual({ status: 'your-turn', text: 'Your turn' });
    expect((await readBoard(page)).filter(Boolean)).toEqual(['X']); // the computer, now X, opened
    await page.getByRole('button', { name: 'Resign' }).click();
    await page.locator('[data-status="lost"]').waitFor();
    expect(await readStatus(page)).toEqual({ status: 'lost', text: 'You lost by resignation' });
    expect(p.errors).toEqual([]);
  });
});
