import { once } from 'node:events';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/game/ai.js';
import { createGame, joinGame, loadGame, makeMove, resign } from '../../src/game/service.js';
import { csrfTokenIn, GOOD_PASSWORD, registerUser, sessionCookie, startTestApp, submitForm, uniqueName, type TestApp } from '../helpers/app.js';
import { databaseKinds } from '../helpers/database.js';
import { isState, openSocket } from '../helpers/live.js';

describe.each(databaseKinds)('players on the %s database', (kind) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(kind, { listen: true, random: mulberry32(11) });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function player(name = uniqueName('pl')) {
    const agent = request.agent(t.app);
    const res = await submitForm(agent, '/register', '/register', { username: name, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD });
    const { rows } = await t.db.pool.query<{ id: number }>('SELECT id FROM users WHERE username = $1', [name]);
    return { id: rows[0]!.id, username: name, agent, cookie: sessionCookie(res)! };
  }

  const ratingOf = async (id: number) =>
    (
      await t.db.pool.query(
        `SELECT coalesce(r.rating, 1500) AS rating, coalesce(r.rating_deviation, 350) AS rd, coalesce(r.rated_games, 0) AS n
           FROM users u LEFT JOIN ratings r ON r.user_id = u.id AND r.variant = 'classic' WHERE u.id = $1`,
        [id],
      )
    ).rows[0] as {
      rating: number;
      rd: number;
      n: number;
    };

  async function playedGame(cells: number[]) {
    const x = await player();
    const o = await player();
    const id = await createGame(t.gameDeps, x.id, { mode: 'friend', level: 'perfect', playAs: 'X' });
    await joinGame(t.gameDeps, o.id, id);
    for (const [ply, cell] of cells.entries()) await makeMove(t.gameDeps, ply % 2 === 0 ? x.id : o.id, id, ply, cell);
    return { id, x, o };
  }

  describe('ratings', () => {
    it('rates a finished game between people, with the change stored on the game', async () => {
      const { id, x, o } = await playedGame([0, 3, 1, 4, 2]);
      const [rx, ro] = [await ratingOf(x.id), await ratingOf(o.id)];
      expect(rx.rating).toBeGreaterThan(1500);
      expect(ro.rating).toBeLessThan(1500);
      expect(rx.n).toBe(1);
      expect(ro.n).toBe(1);
      const { rows } = await t.db.pool.query('SELECT x_rating_change AS x, o_rating_change AS o FROM games WHERE id = $1', [id]);
      expect(rows[0].x).toBeCloseTo(rx.rating - 1500, 6);
      expect(rows[0].o).toBeCloseTo(ro.rating - 1500, 6);
    });

    it('does not rate games against the computer or aborted games', async () => {
      const p = await player();
      const ai = await createGame(t.gameDeps, p.id, { mode: 'ai', level: 'easy', playAs: 'X' });
      await resign(t.gameDeps, p.id, ai);
      const waiting = await createGame(t.gameDeps, p.id, { mode: 'open', level: 'perfect', playAs: 'X' });
      await resign(t.gameDeps, p.id, waiting);
      expect(await ratingOf(p.id)).toMatchObject({ rating: 1500, n: 0 });
    });

    it('rates once when a resignation and a winning move race', async () => {
      const { id, x, o } = await playedGame([0, 3, 1, 4]);
      const results = await Promise.allSettled([makeMove(t.gameDeps, x.id, id, 4, 2), resign(t.gameDeps, o.id, id), resign(t.gameDeps, x.id, id)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const game = (await loadGame(t.gameDeps, id))!;
      expect(game.status).toBe('finished');
      expect((await ratingOf(x.id)).n).toBe(1);
      expect((await ratingOf(o.id)).n).toBe(1);
    });
  });

  describe('profile and leaderboard', () => {
    it('shows figures that match the games played, and recent games', async () => {
      const me = await player();
      const rival = await player();
      // Beat the rival, lose to them, draw once, and lose to the computer.
      const play = async (x: number, o: number, cells: number[]) => {
        const id = await createGame(t.gameDeps, x, { mode: 'friend', level: 'perfect', playAs: 'X' });
        await joinGame(t.gameDeps, o, id);
        for (const [ply, cell] of cells.entries()) await makeMove(t.gameDeps, ply % 2 === 0 ? x : o, id, ply, cell);
      };
      await play(me.id, rival.id, [0, 3, 1, 4, 2]);
      await play(rival.id, me.id, [0, 3, 1, 4, 2]);
      await play(me.id, rival.id, [4, 0, 8, 2, 1, 7, 6, 3, 5]);
      await resign(t.gameDeps, me.id, await createGame(t.gameDeps, me.id, { mode: 'ai', level: 'perfect', playAs: 'X' }));

      const res = await request(t.app).get(`/users/${me.username.toUpperCase()}`);
      expect(res.status).toBe(200);
      expect(res.text).toContain(`<h1>${me.username}</h1>`);
      const figure = (label: string) => new RegExp(`aria-labelledby="${label}-label">([^<]+)<`).exec(res.text)![1];
      expect(figure('wins')).toBe('1');
      expect(figure('losses')).toBe('2');
      expect(figure('draws')).toBe('1');
      expect(figure('rating')).toMatch(/^\d{4}\?$/);
      expect(res.text).toMatch(/<th scope="row">People<\/th><td>1<\/td><td>1<\/td><td>1<\/td>/);
      expect(res.text).toMatch(/<th scope="row">The computer<\/th><td>0<\/td><td>1<\/td><td>0<\/td>/);
      expect(res.text).toContain('Lost as X against Computer (Perfect)');
      expect(res.text.match(/href="\/games\/[A-Za-z0-9]{12}"/g)).toHaveLength(4);
      // Four games fit on one page: no pager, and no empty navigation landmark.
      expect(res.text).not.toContain('aria-label="Pages of games"');
    });

    it('answers 404 for an unknown player', async () => {
      expect((await request(t.app).get('/users/nobody-here')).status).toBe(404);
    });

    it('shows the leaderboard table with its header row even before anyone is rated', async () => {
      const empty = await startTestApp(kind);
      try {
        const res = await request(empty.app).get('/leaderboard');
        expect(res.text.match(/<table/g)).toHaveLength(1);
        expect(res.text).toMatch(/<thead><tr><th scope="col">Rank<\/th>/);
        expect(res.text).toContain('Nobody has played a rated game yet.');
      } finally {
        await empty.close();
      }
    });

    it('lists rated players by rating', async () => {
      const { x, o } = await playedGame([0, 3, 1, 4, 2]);
      const res = await request(t.app).get('/leaderboard');
      expect(res.text.match(/<table/g)).toHaveLength(1);
      expect(res.text).toMatch(/<thead><tr><th scope="col">Rank<\/th>/);
      const order = [...res.text.matchAll(/href="\/users\/([^"]+)"/g)].map((m) => decodeURIComponent(m[1]!));
      expect(order.indexOf(x.username)).toBeGreaterThanOrEqual(0);
      expect(order.indexOf(x.username)).toBeLessThan(order.indexOf(o.username));
    });
  });

  describe('replay, analysis and hints', () => {
    it('shows each position of a finished game at its own URL, with First / Previous / Next / Last', async () => {
      const { id } = await playedGame([4, 1, 0, 8, 6, 2, 3]);
      const at = async (ply: number) => (await request(t.app).get(`/games/${id}?ply=${ply}`)).text;
      const marks = (html: string) => [...html.matchAll(/data-cell="\d"[^>]*>([XO]?)<\/button>/g)].map((m) => m[1] || '.').join('');
      expect(marks(await at(0))).toBe('.........');
      expect(marks(await at(2))).toBe('.O..X....');
      expect(marks(await at(7))).toBe('XOOXX.X.O');
      const page = await at(3);
      expect(page).toContain('Move 3 of 7');
      expect(page).toContain(`href="/games/${id}?ply=2" data-replay="Previous"`);
      expect(page).toContain(`href="/games/${id}?ply=4" data-replay="Next"`);
      expect(page).toMatch(/aria-current="step">X: row 1, column 1/);
      expect(page).not.toContain('js/game.js');
      expect(marks(await at(99))).toBe(marks(await at(7)));
    });

    it('marks the move that lost the game', async () => {
      const { id, o } = await playedGame([4, 1, 0, 8, 6, 2, 3]);
      const page = (await o.agent.get(`/games/${id}`)).text;
      expect(page).toMatch(/<li class="mistake" data-first-mistake>O: row 1, column 2<span class="verdict"> — lost a drawn game<\/span> <strong class="first-mistake">First mistake<\/strong><\/li>/);
      // One in the list; the page's <template> for moves drawn live holds every part, and is not shown.
      const shown = page.replace(/<template[\s\S]*?<\/template>/g, '');
      expect(shown.match(/data-first-mistake/g)).toHaveLength(1);
    });

    it('offers a hint against the computer at Easy and Medium, and refuses it against people and Perfect', async () => {
      const p = await player();
      const easy = await createGame(t.gameDeps, p.id, { mode: 'ai', level: 'easy', playAs: 'X' });
      const json = await p.agent.get(`/games/${easy}/hint`).set('Accept', 'application/json');
      expect(json.status).toBe(200);
      expect(json.body).toMatchObject({ cell: expect.any(Number), text: expect.stringMatching(/^Hint: try row \d, column \d\.$/) });
      const html = await p.agent.get(`/games/${easy}/hint`);
      expect(html.text).toMatch(/data-hint/);

      const perfect = await createGame(t.gameDeps, p.id, { mode: 'ai', level: 'perfect', playAs: 'X' });
      expect((await p.agent.get(`/games/${perfect}/hint`)).status).toBe(403);
      const { id, x } = await playedGame([]);
      const refused = await x.agent.get(`/games/${id}/hint`);
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('Hints are only for');
    });
  });

  describe('admin', () => {
    async function admin() {
      const a = await player();
      await t.db.pool.query('UPDATE users SET is_admin = true WHERE id = $1', [a.id]);
      return a;
    }

    it('is refused (403) to visitors and to players who are not admins', async () => {
      expect((await request(t.app).get('/admin/users')).status).toBe(403);
      const p = await player();
      expect((await p.agent.get('/admin/users')).status).toBe(403);
      const target = await player();
      const page = await p.agent.get('/');
      const res = await p.agent.post(`/admin/users/${target.id}/deactivate`).type('form').send({ _csrf: csrfTokenIn(page.text) });
      expect(res.status).toBe(403);
      expect((await t.db.pool.query('SELECT is_active FROM users WHERE id = $1', [target.id])).rows[0].is_active).toBe(true);
    });

    it('finds users by name, and deactivation ends their sessions and live sockets at once, recorded', async () => {
      const a = await admin();
      const abuser = await player(uniqueName('Abuser'));
      const socket = await openSocket(t.url, abuser.cookie);
      const game = await createGame(t.gameDeps, abuser.id, { mode: 'ai', level: 'easy', playAs: 'X' });
      socket.send({ type: 'subscribe', game });
      await socket.next(isState);

      const list = await a.agent.get(`/admin/users?q=${abuser.username.slice(0, 8).toLowerCase()}`);
      expect(list.status).toBe(200);
      expect(list.text).toContain(`>${abuser.username}</a>`);
      expect(list.text).toMatch(new RegExp(`aria-label="Deactivate ${abuser.username}">Deactivate<`));

      const closed = once(socket.ws, 'close');
      const res = await a.agent.post(`/admin/users/${abuser.id}/deactivate`).type('form').send({ _csrf: csrfTokenIn(list.text) });
      expect(res.status).toBe(303);
      const [code] = await closed;
      expect(code).toBe(4001);
      expect((await abuser.agent.get('/account')).status).toBe(303);
      expect((await submitForm(request.agent(t.app), '/login', '/login', { username: abuser.username, password: GOOD_PASSWORD })).status).toBe(401);
      // Its cookie now opens only a visitor's socket.
      const visitor = await openSocket(t.url, abuser.cookie);
      expect(await visitor.next((m) => m.type === 'hello')).toEqual({ type: 'hello', signedIn: false });
      await visitor.close();

      const after = await a.agent.get('/admin/users');
      expect(after.text).toMatch(new RegExp(`${a.username}: deactivate <strong>${abuser.username}</strong>`));
      const activated = await a.agent.post(`/admin/users/${abuser.id}/activate`).type('form').send({ _csrf: csrfTokenIn(after.text) });
      expect(activated.status).toBe(303);
      expect((await submitForm(request.agent(t.app), '/login', '/login', { username: abuser.username, password: GOOD_PASSWORD })).status).toBe(303);
    });

    it('grants and removes admin, but never on oneself', async () => {
      const a = await admin();
      const b = await player();
      const page = await a.agent.get(`/admin/users?q=${a.username}`);
      // One's own row has its Deactivate too, but it cannot be pressed.
      expect(page.text).toMatch(new RegExp(`<button type="button" class="button small" disabled aria-label="Deactivate ${a.username}"`));
      const token = csrfTokenIn(page.text);
      expect((await a.agent.post(`/admin/users/${b.id}/grant-admin`).type('form').send({ _csrf: token })).status).toBe(303);
      expect((await b.agent.get('/admin/users')).status).toBe(200);
      expect((await a.agent.post(`/admin/users/${a.id}/remove-admin`).type('form').send({ _csrf: token })).status).toBe(409);
      expect((await a.agent.post(`/admin/users/${b.id}/remove-admin`).type('form').send({ _csrf: token })).status).toBe(303);
      expect((await b.agent.get('/admin/users')).status).toBe(403);
    });

    it('answers 404 with a message for an account number no account can have, and changes nothing', async () => {
      const a = await admin();
      const before = (await a.agent.get('/admin/users')).text;
      const token = csrfTokenIn(before);
      const actionLog = (html: string) => html.slice(html.indexOf('actions-heading'));
      for (const id of ['99999999999999999999', '2147483648', '0', '-1', '1e3', '0x10', '1.5', 'abc']) {
        const res = await a.agent.post(`/admin/users/${id}/deactivate`).type('form').send({ _csrf: token });
        expect(res.status, id).toBe(404);
        expect(res.text).toContain('There is no such user.');
      }
      const after = (await a.agent.get('/admin/users')).text;
      expect(after).not.toContain('was deactivated');
      expect(actionLog(after)).toBe(actionLog(before));
    });
  });

  describe('account', () => {
    it('logs out other sessions and keeps this one', async () => {
      const here = await player();
      const elsewhere = request.agent(t.app);
      expect((await submitForm(elsewhere, '/login', '/login', { username: here.username, password: GOOD_PASSWORD })).status).toBe(303);
      const res = await submitForm(here.agent, '/account', '/account/sessions', {});
      expect(res.status).toBe(303);
      expect((await here.agent.get('/account')).text).toContain('Your other sessions have been logged out.');
      expect((await elsewhere.get('/account')).status).toBe(303);
    });

    it('deletes an account after the password, keeping the opponent\'s history intact', async () => {
      const { id, x, o } = await playedGame([0, 3, 1, 4, 2]);
      const wrong = await submitForm(o.agent, '/account', '/account/delete', { password: 'not it at all' });
      expect(wrong.status).toBe(422);
      expect(wrong.text).toContain('That password is not correct.');
      const res = await submitForm(o.agent, '/account', '/account/delete', { password: GOOD_PASSWORD });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/?deleted=1');

      expect((await request(t.app).get(`/users/${o.username}`)).status).toBe(404);
      expect((await submitForm(request.agent(t.app), '/login', '/login', { username: o.username, password: GOOD_PASSWORD })).status).toBe(401);
      const profile = await request(t.app).get(`/users/${x.username}`);
      expect(profile.text).toContain('Won as X against deleted user');
      const game = (await loadGame(t.gameDeps, id))!;
      expect(game.players.O?.name).toBe('deleted user');
      expect(game.moves).toEqual([0, 3, 1, 4, 2]);
      // The name is free again.
      await registerUser(request.agent(t.app), o.username);
    });
  });
});
