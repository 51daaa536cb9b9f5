/**
 * Presence without JavaScript, in real Chromium: a player who plays with plain forms keeps the game
 * page open (it reloads itself) and cannot be claimed against; once they leave, they can.
 *
 * The game clock runs SPEED times faster than real time and pages reload every second (SPEED game
 * seconds), so a minute of absence takes seconds: presence windows and the claim rule are in game
 * time, exactly as in production.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimVictory, createGame, joinGame, makeMove } from '../../src/game/service.js';
import { CLAIM_AFTER_MS, PAGE_PRESENCE_MS } from '../../src/game/presence.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { closeAll, launchBrowser, newPerson, register, type Person } from '../helpers/browser.js';

/** Game time runs this much faster: a reload every real second is SPEED game seconds, well inside the 30 s a load counts. */
const SPEED = 5;
const started = Date.now();
const gameClock = () => started + (Date.now() - started) * SPEED;
/** Real milliseconds for a span of game time. */
const real = (gameMs: number) => gameMs / SPEED;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('presence of a player without JavaScript', () => {
  let browser: Browser;
  let app: TestApp;
  const people: Person[] = [];

  beforeAll(async () => {
    [browser, app] = await Promise.all([launchBrowser(), startTestApp('embedded', { listen: true, clock: gameClock, pageReloadSeconds: 1 })]);
  });
  afterAll(async () => {
    await closeAll(people);
    await browser?.close();
    await app?.close();
  });

  async function userId(username: string) {
    const { rows } = await app.db.pool.query<{ id: number }>('SELECT id FROM users WHERE username = $1', [username]);
    return rows[0]!.id;
  }

  it('cannot be claimed against while the page stays open, and can once they left', async () => {
    const alice = await newPerson(browser, app.url);
    const bob = await newPerson(browser, app.url, { javaScriptEnabled: false });
    people.push(alice, bob);
    const [aliceId, bobId] = await Promise.all([register(alice).then(userId), register(bob).then(userId)]);
    const game = await createGame(app.gameDeps, aliceId, { mode: 'friend', level: 'perfect', playAs: 'X' });
    await joinGame(app.gameDeps, bobId, game);
    await makeMove(app.gameDeps, aliceId, game, 0, 4);

    // Bob (O, to move) keeps the page open without JavaScript: it reloads itself.
    let loads = 0;
    bob.page.on('load', () => (loads += 1));
    await bob.page.goto(`/games/${game}`);
    await alice.page.goto(`/games/${game}`);
    await sleep(real(CLAIM_AFTER_MS + PAGE_PRESENCE_MS + 20_000));
    expect(loads).toBeGreaterThan(5);
    await expect(claimVictory(app.gameDeps, aliceId, game)).rejects.toMatchObject({ code: 'cannot_claim' });
    await alice.page.reload();
    await expect(alice.page.getByRole('button', { name: 'Claim victory' }).isVisible()).resolves.toBe(false);
    const bobEntry = alice.page.getByRole('list', { name: 'Players' }).getByRole('listitem').filter({ hasText: 'plays O' });
    expect(await bobEntry.innerText()).not.toContain('away');

    // Bob leaves: once his last load's presence ends and a minute passes, Alice may claim.
    await bob.page.goto('/leaderboard');
    await sleep(real(PAGE_PRESENCE_MS + CLAIM_AFTER_MS + 10_000));
    await alice.page.reload();
    expect(await bobEntry.innerText()).toContain('away');
    await alice.page.getByRole('button', { name: 'Claim victory' }).click();
    await expect
      .poll(async () => (await alice.page.locator('#game-status').innerText()).trim(), { timeout: 5_000 })
      .toBe('You won because the opponent left');
  }, 120_000);
});
