/**
 * A small, fixed site for the accessibility and layout tests: alice (an admin), bob and carol
 * registered in the browser, and games in each state a page can show (waiting for a friend, in
 * progress against the computer and between people, finished with its analysis), made through the
 * game service so that setting up costs no clicks. The computer plays with random() = 0, so its
 * moves are always the same.
 */
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { closeAll, launchBrowser, newPerson, register, type Person } from '../helpers/browser.js';
import { createGame, joinGame, makeMove, resign } from '../../src/game/service.js';

export interface Site {
  app: TestApp;
  browser: Browser;
  alice: Person;
  bob: Person;
  carol: Person;
  ids: { alice: number; bob: number; carol: number };
  /** Paths of game pages. */
  games: {
    /** alice (X) against the computer at Perfect, one move each. */
    computer: string;
    /** alice (X) against bob (O), two moves played, alice to move. */
    people: string;
    /** alice (X) beat bob (O) along the top row. */
    won: string;
    /** alice waits for a friend. */
    waiting: string;
    /** Ultimate: alice (X) against bob (O), alice has won small board 1 and is to move. */
    ultimate: string;
    /** Ultimate: the same moves, then bob resigned. */
    ultimateOver: string;
  };
  /** A person with a fresh context (others are closed by `close`). */
  person(options?: Parameters<typeof newPerson>[2]): Promise<Person>;
  close(): Promise<void>;
}

/** Legal Ultimate moves (cells 0..80) after which X holds small board 1 (its middle column) and is to move. */
const ULTIMATE_OPENING = [58, 12, 27, 9, 29, 6, 1, 3, 19, 57, 10, 39];

export async function buildSite(): Promise<Site> {
  const [browser, app] = await Promise.all([launchBrowser(), startTestApp('embedded', { listen: true, random: () => 0 })]);
  const people: Person[] = [];
  const person = async (options?: Parameters<typeof newPerson>[2]) => {
    const p = await newPerson(browser, app.url, options);
    people.push(p);
    return p;
  };
  const [alice, bob, carol] = await Promise.all([person(), person(), person()]);
  await Promise.all([register(alice, 'alice'), register(bob, 'bob'), register(carol, 'carol')]);
  // Off the live lobby while the games are made: three lobbies refetching their lists on every
  // change would only load the embedded database.
  await Promise.all([alice, bob, carol].map((p) => p.page.goto('/leaderboard')));
  const { rows } = await app.db.pool.query<{ id: number; username: string }>(
    "SELECT id, username FROM users WHERE username IN ('alice', 'bob', 'carol')",
  );
  const id = (name: string) => rows.find((r) => r.username === name)!.id;
  const ids = { alice: id('alice'), bob: id('bob'), carol: id('carol') };
  await app.db.pool.query('UPDATE users SET is_admin = true WHERE id = $1', [ids.alice]);

  const deps = app.gameDeps;
  const computer = await createGame(deps, ids.alice, { mode: 'ai', level: 'perfect', playAs: 'X' });
  await makeMove(deps, ids.alice, computer, 0, 4);

  const won = await createGame(deps, ids.alice, { mode: 'friend', level: 'perfect', playAs: 'X' });
  await joinGame(deps, ids.bob, won);
  for (const [ply, [who, cell]] of ([['alice', 0], ['bob', 3], ['alice', 1], ['bob', 4], ['alice', 2]] as const).entries()) {
    await makeMove(deps, ids[who], won, ply, cell);
  }

  const people2 = await createGame(deps, ids.alice, { mode: 'friend', level: 'perfect', playAs: 'X' });
  await joinGame(deps, ids.bob, people2);
  await makeMove(deps, ids.alice, people2, 0, 4);
  await makeMove(deps, ids.bob, people2, 1, 0);

  const waiting = await createGame(deps, ids.alice, { mode: 'friend', level: 'perfect', playAs: 'X' });

  const ultimateGame = async () => {
    const id = await createGame(deps, ids.alice, { variant: 'ultimate', mode: 'friend', level: 'hard', playAs: 'X' });
    await joinGame(deps, ids.bob, id);
    for (const [ply, cell] of ULTIMATE_OPENING.entries()) await makeMove(deps, ply % 2 === 0 ? ids.alice : ids.bob, id, ply, cell);
    return id;
  };
  const ultimate = await ultimateGame();
  const ultimateOver = await ultimateGame();
  await resign(deps, ids.bob, ultimateOver);

  return {
    app,
    browser,
    alice,
    bob,
    carol,
    ids,
    games: {
      computer: `/games/${computer}`,
      people: `/games/${people2}`,
      won: `/games/${won}`,
      waiting: `/games/${waiting}`,
      ultimate: `/games/${ultimate}`,
      ultimateOver: `/games/${ultimateOver}`,
    },
    person,
    async close() {
      await closeAll(people);
      await browser.close();
      await app.close();
    },
  };
}

export interface SitePage {
  name: string;
  path: string;
  /** Who may see it: a visitor, a signed-in person, or both. */
  who: 'visitor' | 'signed-in' | 'both';
}

/** Every kind of page on the site. */
export function sitePages(site: Site): SitePage[] {
  return [
    { name: 'home', path: '/', who: 'both' },
    { name: 'login', path: '/login', who: 'both' },
    { name: 'register', path: '/register', who: 'both' },
    { name: 'log out', path: '/logout', who: 'signed-in' },
    { name: 'game against the computer', path: site.games.computer, who: 'both' },
    { name: 'game in progress', path: site.games.people, who: 'both' },
    { name: 'game waiting for a friend', path: site.games.waiting, who: 'both' },
    { name: 'finished game with analysis', path: site.games.won, who: 'both' },
    { name: 'replay', path: `${site.games.won}?ply=2`, who: 'both' },
    { name: 'Ultimate game in progress', path: site.games.ultimate, who: 'both' },
    { name: 'finished Ultimate game', path: site.games.ultimateOver, who: 'both' },
    { name: 'Ultimate leaderboard', path: '/leaderboard?variant=ultimate', who: 'both' },
    { name: 'profile', path: '/users/alice', who: 'both' },
    { name: 'leaderboard', path: '/leaderboard', who: 'both' },
    { name: 'account', path: '/account', who: 'signed-in' },
    { name: 'admin users', path: '/admin/users', who: 'signed-in' },
    { name: 'not allowed', path: '/admin/users', who: 'visitor' },
    { name: 'not found', path: '/no-such-page', who: 'both' },
  ];
}

/** Opens a page and waits until its script (if any) has connected and drawn. */
export async function openPage(page: Page, path: string): Promise<void> {
  await page.goto(path);
  await page.waitForLoadState('load');
  const live = page.locator('#connection');
  if ((await live.count()) > 0 && (await page.locator('script[src*="/js/"]').count()) > 0) {
    await page.locator('#connection[data-state="live"]').waitFor({ state: 'attached' });
  }
}
