/**
 * Real Chromium: people find each other by invite link and in the lobby, play live over the
 * WebSocket (no reloads), a spectator watches, a signed-out visitor follows live and is asked to
 * log in to play, and a rematch swaps colours. Everything is driven by the accessible names of UI-CONTRACT.md.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { databaseKinds } from '../helpers/database.js';
import {
  board,
  cell,
  closeAll,
  hasMarker,
  launchBrowser,
  LIVE_MS,
  newPerson,
  readBoard,
  readStatus,
  register,
  screenshots,
  setMarker,
  startGame,
  waitForLive,
  waitForMark,
  waitForOtherGame,
  waitForStatus,
  unplayableCells,
  type Person,
} from '../helpers/browser.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const ALL_CELLS = [0, 1, 2, 3, 4, 5, 6, 7, 8];

/** X wins the top row: X 0, O 3, X 1, O 4, X 2. */
const X_WINS_TOP_ROW: [number, 'X' | 'O'][] = [
  [0, 'X'],
  [3, 'O'],
  [1, 'X'],
  [4, 'O'],
  [2, 'X'],
];

/** Milliseconds from a click to the mark on another person's screen, over every test. */
const latencies: number[] = [];
afterAll(() => {
  if (latencies.length === 0) return;
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  console.info(`e2e move latency to the other screens: n=${sorted.length} median=${at(0.5)} ms p90=${at(0.9)} ms max=${sorted.at(-1)} ms`);
});

/** Cells the viewer cannot play now (disabled without the script, aria-disabled with it). */
const disabledCells = unplayableCells;

async function winningCells(page: Page): Promise<number[]> {
  return board(page)
    .locator('button[data-win]')
    .evaluateAll((buttons) => buttons.map((b) => Number((b as HTMLElement).dataset.cell)));
}

function movesList(page: Page) {
  return page.getByRole('list', { name: 'Moves' }).getByRole('listitem');
}

/** The entry of the Players list for a mark ("… plays X"). */
function playerEntry(page: Page, mark: 'X' | 'O') {
  return page.getByRole('list', { name: 'Players' }).getByRole('listitem').filter({ hasText: `plays ${mark}` });
}

/**
 * Plays `moves` with the player whose mark it is clicking the cell; every other page must show the
 * mark within LIVE_MS, without reloading.
 */
async function playLive(players: Record<'X' | 'O', Page>, watchers: Page[], moves: [number, 'X' | 'O'][]) {
  for (const [index, mark] of moves) {
    const mover = players[mark];
    const waiter = players[mark === 'X' ? 'O' : 'X'];
    await waitForStatus(mover, 'your-turn', LIVE_MS);
    // The player not on turn cannot play any cell.
    expect(await disabledCells(waiter)).toEqual(ALL_CELLS);
    const started = Date.now();
    await cell(mover, index).click();
    await Promise.all(
      [waiter, ...watchers].map(async (page) => {
        await waitForMark(page, index, mark, LIVE_MS);
        latencies.push(Date.now() - started);
      }),
    );
    await waitForMark(mover, index, mark, LIVE_MS);
  }
}

describe.each(databaseKinds)('people in the browser (%s database)', (kind) => {
  let app: TestApp;
  const people: Person[] = [];
  const person = async (options?: Parameters<typeof newPerson>[2]) => {
    const p = await newPerson(browser, app.url, options);
    people.push(p);
    return p;
  };

  beforeAll(async () => {
    app = await startTestApp(kind, { listen: true });
  });
  afterAll(async () => {
    await app?.close();
  });
  afterEach(async () => {
    const errors = people.flatMap((p) => p.errors.map((e) => `${p.username || 'visitor'}: ${e}`));
    await closeAll(people);
    // A live page should not log errors to its console (a crashed script would stop updating).
    expect(errors).toEqual([]);
  });

  it('invite by link, play to a win live without reloads while a spectator watches; loser sees "You lost"; Rematch swaps colours', async () => {
    const [a, b, c] = await Promise.all([person(), person(), person()]);
    await Promise.all([register(a), register(b), register(c)]);

    // A invites a friend: the page shows the game's full URL to send.
    const gameUrl = await startGame(a.page, 'Invite a friend', { playAs: 'X' });
    expect(await waitForStatus(a.page, 'waiting')).toEqual({ status: 'waiting', text: 'Waiting for an opponent' });
    const inviteBox = a.page.getByRole('textbox', { name: 'Invite link' });
    const invite = await inviteBox.inputValue();
    expect(invite).toBe(gameUrl);
    expect(await inviteBox.getAttribute('readonly')).not.toBeNull();
    expect(await a.page.getByRole('button', { name: 'Copy' }).isVisible()).toBe(true);
    await waitForLive(a.page);
    await setMarker(a.page, 'A');
    const aNavigations = a.navigations();

    // B opens the link: not a player yet, so Join game; no invite link for B.
    await b.page.goto(invite);
    expect(await waitForStatus(b.page, 'waiting')).toMatchObject({ status: 'waiting' });
    expect(await b.page.getByRole('textbox', { name: 'Invite link' }).isVisible()).toBe(false);
    await Promise.all([b.page.waitForURL(gameUrl), b.page.getByRole('button', { name: 'Join game' }).click()]);
    expect(await waitForStatus(b.page, 'their-turn')).toEqual({ status: 'their-turn', text: `${a.username}'s turn` });
    expect(await b.page.getByRole('button', { name: 'Join game' }).isVisible()).toBe(false);
    await waitForLive(b.page);
    await setMarker(b.page, 'B');
    const bNavigations = b.navigations();

    // A's page learns that B joined, live.
    expect(await waitForStatus(a.page, 'your-turn', LIVE_MS)).toEqual({ status: 'your-turn', text: 'Your turn' });
    expect(await inviteBox.isVisible()).toBe(false);
    expect(await playerEntry(a.page, 'O').textContent()).toContain(b.username);
    expect(await a.page.getByRole('button', { name: 'Resign' }).isVisible()).toBe(true);

    // C, signed in, finds the game under Live games in the lobby and follows the link to watch.
    await c.page.goto('/');
    const watch = c.page.getByRole('region', { name: 'Live games' }).getByRole('link', { name: `${a.username} (X) vs ${b.username} (O)` });
    await Promise.all([c.page.waitForURL(gameUrl), watch.click()]);
    expect(await waitForStatus(c.page, 'x-turn')).toEqual({ status: 'x-turn', text: `${a.username} (X) to move` });
    expect(await disabledCells(c.page)).toEqual(ALL_CELLS);
    for (const name of ['Join game', 'Resign', 'Rematch']) {
      expect(await c.page.getByRole('button', { name }).isVisible(), name).toBe(false);
    }
    expect(await playerEntry(c.page, 'X').textContent()).toContain(a.username);
    expect(await playerEntry(c.page, 'O').textContent()).toContain(b.username);
    await waitForLive(c.page);
    await setMarker(c.page, 'C');

    // D, signed out, sees the same game as a spectator, with a prompt to log in.
    const d = await person();
    await d.page.goto(gameUrl);
    expect(await waitForStatus(d.page, 'x-turn')).toEqual({ status: 'x-turn', text: `${a.username} (X) to move` });
    expect(await d.page.getByRole('main').getByRole('link', { name: 'Log in' }).isVisible()).toBe(true);
    expect(await disabledCells(d.page)).toEqual(ALL_CELLS);
    expect(await d.page.getByRole('button', { name: 'Join game' }).count()).toBe(0);
    // Watching needs no account: the signed-out visitor follows the game live too.
    await waitForLive(d.page);
    await setMarker(d.page, 'D');

    // The game: every move reaches the opponent and the spectators live; they see whose turn it is.
    for (const [i, move] of X_WINS_TOP_ROW.entries()) {
      await playLive({ X: a.page, O: b.page }, [c.page, d.page], [move]);
      if (i < X_WINS_TOP_ROW.length - 1) {
        for (const page of [c.page, d.page]) {
          await waitForStatus(page, move[1] === 'X' ? 'o-turn' : 'x-turn', LIVE_MS);
          expect(await disabledCells(page)).toEqual(ALL_CELLS);
        }
      }
    }

    const finalBoard = ['X', 'X', 'X', 'O', 'O', '', '', '', ''];
    expect(await waitForStatus(a.page, 'won', LIVE_MS)).toEqual({ status: 'won', text: 'You won' });
    expect(await waitForStatus(b.page, 'lost', LIVE_MS)).toEqual({ status: 'lost', text: 'You lost' });
    expect(await waitForStatus(c.page, 'x-won', LIVE_MS)).toEqual({ status: 'x-won', text: `${a.username} (X) won` });
    for (const page of [a.page, b.page, c.page]) {
      expect(await winningCells(page)).toEqual([0, 1, 2]);
      expect(await disabledCells(page)).toEqual(ALL_CELLS);
      expect(await readBoard(page)).toEqual(finalBoard);
      expect(await movesList(page).count()).toBe(5);
      expect(await page.getByRole('button', { name: 'Resign' }).isVisible()).toBe(false);
    }
    expect(await a.page.getByRole('button', { name: 'Rematch' }).isVisible()).toBe(true);
    expect(await b.page.getByRole('button', { name: 'Rematch' }).isVisible()).toBe(true);
    expect(await c.page.getByRole('button', { name: 'Rematch' }).isVisible()).toBe(false);
    // The whole game was live: same documents, no navigation since each page was set up.
    expect(await hasMarker(a.page, 'A')).toBe(true);
    expect(await hasMarker(b.page, 'B')).toBe(true);
    expect(await hasMarker(c.page, 'C')).toBe(true);
    expect(a.navigations()).toBe(aNavigations);
    expect(b.navigations()).toBe(bNavigations);

    // The visitor saw it all live, on the same document; a reload shows the same game.
    expect(await waitForStatus(d.page, 'x-won', LIVE_MS)).toEqual({ status: 'x-won', text: `${a.username} (X) won` });
    expect(await hasMarker(d.page, 'D')).toBe(true);
    expect(await readBoard(d.page)).toEqual(finalBoard);
    await d.page.reload();
    expect(await readStatus(d.page)).toEqual({ status: 'x-won', text: `${a.username} (X) won` });
    expect(await readBoard(d.page)).toEqual(finalBoard);
    expect(await winningCells(d.page)).toEqual([0, 1, 2]);
    expect(await d.page.getByRole('main').getByRole('link', { name: 'Log in' }).isVisible()).toBe(true);

    if (kind === 'embedded') {
      await screenshots(a.page, 'game-won');
      await screenshots(b.page, 'game-lost');
      await screenshots(c.page, 'game-spectator');
    }

    // Rematch: A offers, B sees the offer live and accepts; both players land on the new game.
    await a.page.getByRole('button', { name: 'Rematch' }).click();
    // .first(): the line under the status; the screen reader's live region says the same words.
    await a.page.getByText('Rematch offered').first().waitFor({ timeout: LIVE_MS });
    await b.page.getByText(`${a.username} wants a rematch`).first().waitFor({ timeout: LIVE_MS });
    await b.page.getByRole('button', { name: 'Rematch' }).click();
    const [aNext, bNext] = await Promise.all([waitForOtherGame(a.page, gameUrl), waitForOtherGame(b.page, gameUrl)]);
    expect(aNext).toBe(bNext);
    // Colours swapped: B opens as X, A plays O.
    expect(await waitForStatus(b.page, 'your-turn')).toEqual({ status: 'your-turn', text: 'Your turn' });
    expect(await waitForStatus(a.page, 'their-turn')).toEqual({ status: 'their-turn', text: `${b.username}'s turn` });
    for (const page of [a.page, b.page]) {
      expect(await playerEntry(page, 'O').textContent()).toContain(a.username);
      expect(await playerEntry(page, 'X').textContent()).toContain(b.username);
      expect(await readBoard(page)).toEqual(['', '', '', '', '', '', '', '', '']);
    }
    expect(await playerEntry(a.page, 'O').getByText('(you)').isVisible()).toBe(true);
    // The spectator is not moved: still the finished game, same document.
    expect(c.page.url()).toBe(gameUrl);
    expect(await hasMarker(c.page, 'C')).toBe(true);
    expect(await readStatus(c.page)).toMatchObject({ status: 'x-won' });

    // And the new game is live too: B (X) moves, A sees it.
    await Promise.all([waitForLive(a.page), waitForLive(b.page)]);
    await playLive({ X: b.page, O: a.page }, [], [[4, 'X']]);
    expect(await waitForStatus(a.page, 'your-turn', LIVE_MS)).toMatchObject({ status: 'your-turn' });
  }, 60_000);

  // The lobby's live lists are the same code on both kinds; one run is enough for the time it costs.
  it.runIf(kind === 'embedded')('an open game shows up live in another lobby under Open games; joining it starts play', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    await Promise.all([register(a), register(b)]);

    // B waits in the lobby, live.
    await waitForLive(b.page);
    await setMarker(b.page, 'B lobby');
    const openGames = b.page.getByRole('region', { name: 'Open games' });
    const join = openGames.getByRole('button', { name: `Join ${a.username} plays X` });
    expect(await join.count()).toBe(0);

    const gameUrl = await startGame(a.page, 'Create open game', { playAs: 'X' });
    expect(await waitForStatus(a.page, 'waiting')).toEqual({ status: 'waiting', text: 'Waiting for an opponent' });
    // An open game has no invite link: it waits in the lobby.
    expect(await a.page.getByRole('textbox', { name: 'Invite link' }).isVisible()).toBe(false);
    await waitForLive(a.page);

    await join.waitFor({ timeout: LIVE_MS });
    expect(await hasMarker(b.page, 'B lobby')).toBe(true);
    expect(await openGames.getByRole('button', { name: 'Join' }).count()).toBe(1);
    await screenshots(b.page, 'lobby');

    await Promise.all([b.page.waitForURL(gameUrl), join.click()]);
    expect(await waitForStatus(b.page, 'their-turn')).toMatchObject({ status: 'their-turn' });
    expect(await waitForStatus(a.page, 'your-turn', LIVE_MS)).toMatchObject({ status: 'your-turn' });
    await waitForLive(b.page);
    await setMarker(a.page, 'A');
    await setMarker(b.page, 'B');

    await playLive({ X: a.page, O: b.page }, [], [
      [4, 'X'],
      [0, 'O'],
    ]);
    expect(await waitForStatus(a.page, 'your-turn', LIVE_MS)).toMatchObject({ status: 'your-turn' });
    expect(await readStatus(b.page)).toEqual({ status: 'their-turn', text: `${a.username}'s turn` });
    expect(await hasMarker(a.page, 'A')).toBe(true);
    expect(await hasMarker(b.page, 'B')).toBe(true);

    // Back in B's lobby the game is one of B's games now, not an open one.
    await b.page.goto('/');
    expect(await openGames.getByRole('button', { name: `Join ${a.username} plays X` }).count()).toBe(0);
    expect(
      await b.page
        .getByRole('region', { name: 'Your games' })
        .getByRole('link', { name: `You (O) vs ${a.username} (X)` })
        .isVisible(),
    ).toBe(true);
  }, 45_000);
});
