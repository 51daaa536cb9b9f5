/** Real Chromium: the analysis of a lost game, and the leaderboard after a rated game. */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import {
  cell,
  closeAll,
  launchBrowser,
  LIVE_MS,
  newPerson,
  PLAYABLE_CELL,
  register,
  startGame,
  waitForLive,
  waitForMark,
  waitForStatus,
  type Person,
} from '../helpers/browser.js';

describe('players in the browser', () => {
  let browser: Browser;
  let app: TestApp;
  const people: Person[] = [];
  const person = async () => {
    const p = await newPerson(browser, app.url);
    people.push(p);
    return p;
  };

  beforeAll(async () => {
    [browser, app] = await Promise.all([launchBrowser(), startTestApp('embedded', { listen: true })]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });
  afterEach(async () => {
    await closeAll(people);
  });

  it('shows where a game against the computer was lost', async () => {
    const p = await person();
    await register(p);
    await startGame(p.page, 'Play the computer', { difficulty: 'Perfect', playAs: 'X' });
    await waitForLive(p.page);
    // A careless player: always the first free square.
    for (let turn = 0; turn < 5; turn++) {
      const { status } = await waitForStatus(p.page, ['your-turn', 'lost', 'draw', 'won']);
      if (status !== 'your-turn') break;
      await p.page.locator(PLAYABLE_CELL).first().click();
      await p.page.locator(`[data-status]:not([data-status="your-turn"]), ${PLAYABLE_CELL}:not([aria-busy])`).first().waitFor();
    }
    expect((await waitForStatus(p.page, ['lost'])).text).toBe('You lost');
    const mistake = p.page.getByRole('list', { name: 'Moves' }).locator('li[data-first-mistake]');
    await expect.poll(() => mistake.count(), { timeout: LIVE_MS }).toBe(1);
    expect(await mistake.textContent()).toMatch(/^X: row \d, column \d — (lost a drawn game|threw away a win) First mistake$/);
    expect(await mistake.getByText('First mistake').isVisible()).toBe(true);

    // The list the script redrew live is the server's markup item for item, down to the last
    // move's aria-current="step" (the replay's current move).
    const liveItems = await p.page.locator('#moves > li').evaluateAll((items) => items.map((li) => li.outerHTML));
    const serverItems = await p.page.evaluate(async () => {
      const html = await (await fetch(location.href, { headers: { Accept: 'text/html' } })).text();
      const served = new DOMParser().parseFromString(html, 'text/html');
      return [...served.querySelectorAll('#moves > li')].map((li) => li.outerHTML);
    });
    expect(serverItems.at(-1)).toContain('aria-current="step"');
    expect(liveItems).toEqual(serverItems);
  });

  it('lists the winner of a rated game above the loser on the leaderboard', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    await Promise.all([register(a), register(b)]);
    const url = await startGame(a.page, 'Invite a friend', { playAs: 'X' });
    await b.page.goto(url);
    await Promise.all([b.page.waitForURL(url), b.page.getByRole('button', { name: 'Join game' }).click()]);
    await Promise.all([waitForLive(a.page), waitForLive(b.page)]);
    for (const [index, mark] of [[0, 'X'], [3, 'O'], [1, 'X'], [4, 'O'], [2, 'X']] as const) {
      const [mover, other] = mark === 'X' ? [a, b] : [b, a];
      await waitForStatus(mover.page, 'your-turn', LIVE_MS);
      await cell(mover.page, index).click();
      await waitForMark(other.page, index, mark, LIVE_MS);
    }
    await waitForStatus(b.page, 'lost', LIVE_MS);

    const visitor = await person();
    await visitor.page.goto('/leaderboard');
    const rows = await visitor.page
      .getByRole('table')
      .getByRole('row')
      .evaluateAll((trs) => trs.map((tr) => [...(tr as HTMLTableRowElement).cells].map((c) => c.textContent?.trim() ?? '')));
    expect(rows[0]).toEqual(['Rank', 'Player', 'Rating', 'Games played']);
    const players = rows.slice(1).map((r) => r[1]);
    expect(players.indexOf(a.username)).toBeGreaterThanOrEqual(0);
    expect(players.indexOf(a.username)).toBeLessThan(players.indexOf(b.username));
    expect(rows.find((r) => r[1] === a.username)).toEqual(['—', a.username, expect.stringMatching(/^1[5-9]\d\d\?$/), '1']);
  });
});
