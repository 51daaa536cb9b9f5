/**
 * A session that ends stops acting everywhere at once, its WebSockets included, on every instance;
 * and a session that has been destroyed stays destroyed, whatever requests were in flight.
 *
 * Every case: one account signed in in two browsers; browser 2 follows its own game against the
 * computer over a socket on instance B; the session ends through instance A. Within a second the
 * socket closes, and a move sent on it is not stored.
 */
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import bcrypt from 'bcrypt';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfTokenIn, GOOD_PASSWORD, registerUser, sessionCookie, startTestApp, submitForm, type Agent, type TestApp } from '../helpers/app.js';
import { startInstanceOn, type Instance } from '../helpers/cluster.js';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../helpers/database.js';
import { isState, openSocket, type TestSocket } from '../helpers/live.js';

/** "Within a second", plus what a loaded CI machine needs to deliver a NOTIFY. */
const WITHIN_MS = 1_000;

interface Browser {
  agent: Agent;
  cookie: string;
}

describe.each(databaseKinds)('ending a session on the %s database', (kind) => {
  let database: TestDatabase;
  let a: Instance;
  let b: Instance;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    [a, b] = await Promise.all([startInstanceOn(database.url), startInstanceOn(database.url)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  async function logIn(username: string, password = GOOD_PASSWORD): Promise<Browser> {
    const agent = request.agent(a.url);
    const res = await submitForm(agent, '/login', '/login', { username, password });
    expect(res.status).toBe(303);
    return { agent, cookie: sessionCookie(res)! };
  }

  /** Two browsers of one new account, and browser 2's socket on instance B, in its own game. */
  async function twoBrowsers() {
    const first = request.agent(a.url);
    const { username } = await registerUser(first);
    const one = await logIn(username);
    const two = await logIn(username);
    const created = await submitForm(two.agent, '/', '/games', { mode: 'ai', level: 'perfect', playAs: 'X' });
    const game = String(created.headers.location).split('/').pop()!;
    const socket = await openSocket(b.url, two.cookie);
    sockets.push(socket);
    socket.send({ type: 'subscribe', game });
    await socket.next(isState);
    // Listening from now: the close can come before the request that causes it has answered.
    const closed = once(socket.ws, 'close') as Promise<[number]>;
    return { username, one, two, socket, game, closed };
  }

  /** The socket closes within a second of the request's answer, and a move sent on it is not stored. */
  async function expectEnded({ socket, game, closed }: { socket: TestSocket; game: string; closed: Promise<[number]> }) {
    const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the socket stayed open')), WITHIN_MS).unref());
    const [code] = await Promise.race([closed, timer]);
    expect(code).toBe(4001);
    if (socket.ws.readyState === socket.ws.OPEN) socket.send({ type: 'move', id: 'late', game, ply: 0, cell: 4 });
    const { rows } = await database.pool.query('SELECT count(*)::int AS n FROM moves WHERE game_id = $1', [game]);
    expect(rows[0].n).toBe(0);
  }

  it('logout in browser 2 (on instance A) ends its socket on instance B', async () => {
    const browsers = await twoBrowsers();
    const { two } = browsers;
    const res = await submitForm(two.agent, '/logout', '/logout', {});
    expect(res.status).toBe(303);
    await expectEnded(browsers);
  });

  it('"Log out other sessions" in browser 1 ends browser 2\'s socket', async () => {
    const browsers = await twoBrowsers();
    const { one } = browsers;
    expect((await submitForm(one.agent, '/account', '/account/sessions', {})).status).toBe(303);
    await expectEnded(browsers);
  });

  it('a password change in browser 1 ends browser 2\'s socket', async () => {
    const browsers = await twoBrowsers();
    const { one } = browsers;
    const res = await submitForm(one.agent, '/account', '/account/password', { currentPassword: GOOD_PASSWORD, newPassword: 'a new long passphrase', confirm: 'a new long passphrase' });
    expect(res.status).toBe(303);
    await expectEnded(browsers);
  });

  it('deactivation by an admin ends the socket', async () => {
    const browsers = await twoBrowsers();
    const { username } = browsers;
    const admin = request.agent(a.url);
    const { username: adminName } = await registerUser(admin);
    await database.pool.query('UPDATE users SET is_admin = true WHERE username = $1', [adminName]);
    const { rows } = await database.pool.query('SELECT id FROM users WHERE username = $1', [username]);
    const page = await admin.get(`/admin/users?q=${username}`);
    const res = await admin.post(`/admin/users/${rows[0].id}/deactivate`).type('form').send({ _csrf: csrfTokenIn(page.text) });
    expect(res.status).toBe(303);
    await expectEnded(browsers);
  });

  it('deleting the account in browser 1 ends browser 2\'s socket', async () => {
    const browsers = await twoBrowsers();
    const { one } = browsers;
    expect((await submitForm(one.agent, '/account', '/account/delete', { password: GOOD_PASSWORD })).status).toBe(303);
    await expectEnded(browsers);
  });

  it('an expired session\'s socket refuses to act', async () => {
    const { two, socket, game } = await twoBrowsers();
    // The session expires in a moment (as if its 14 idle days were over); the socket was opened before.
    const sid = decodeURIComponent(two.cookie.split('=')[1]!).slice(2).split('.')[0]!;
    await database.pool.query(
      `UPDATE session SET expire = now() + interval '300 milliseconds',
              sess = jsonb_set(sess::jsonb, '{cookie,expires}', to_jsonb(to_char((now() + interval '300 milliseconds') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))::json
        WHERE sid = $1`,
      [sid],
    );
    await socket.close();
    const fresh = await openSocket(b.url, two.cookie);
    sockets.push(fresh);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const closed = once(fresh.ws, 'close') as Promise<[number]>;
    fresh.send({ type: 'move', id: 'm1', game, ply: 0, cell: 4 });
    expect(await fresh.reply('m1')).toMatchObject({ type: 'error', code: 'session_expired' });
    expect((await closed)[0]).toBe(4001);
    const { rows } = await database.pool.query('SELECT count(*)::int AS n FROM moves WHERE game_id = $1', [game]);
    expect(rows[0].n).toBe(0);
  });

  it('the browser that logged out its other sessions goes on in a new session; its old socket ends, a new one acts', async () => {
    const { one } = await twoBrowsers();
    const created = await submitForm(one.agent, '/', '/games', { mode: 'ai', level: 'perfect', playAs: 'X' });
    const game = String(created.headers.location).split('/').pop()!;
    const own = await openSocket(b.url, one.cookie);
    sockets.push(own);
    own.send({ type: 'subscribe', game });
    await own.next(isState);
    const ownClosed = once(own.ws, 'close') as Promise<[number]>;
    const res = await submitForm(one.agent, '/account', '/account/sessions', {});
    expect(res.status).toBe(303);
    expect((await ownClosed)[0]).toBe(4001);
    // The same browser, with the cookie of its new session.
    const fresh = await openSocket(b.url, sessionCookie(res)!);
    sockets.push(fresh);
    fresh.send({ type: 'subscribe', game });
    await fresh.next(isState);
    fresh.send({ type: 'move', id: 'mine', game, ply: 0, cell: 4 });
    expect(await fresh.reply('mine')).toMatchObject({ type: 'ack' });
    // And a logout later ends that one too.
    const freshClosed = once(fresh.ws, 'close') as Promise<[number]>;
    expect((await submitForm(one.agent, '/account', '/logout', {})).status).toBe(303);
    expect((await freshClosed)[0]).toBe(4001);
  });

  it('a POST whose body was still arriving when the session ended does nothing and mints no session', async () => {
    const first = request.agent(a.url);
    const { username } = await registerUser(first);
    const browser = await logIn(username);
    const token = csrfTokenIn((await browser.agent.get('/account')).text);
    const body = `_csrf=${encodeURIComponent(token)}`;
    const url = new URL('/account/sessions', a.url);
    const answer = new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(url, {
        method: 'POST',
        headers: { cookie: browser.cookie, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      });
      req.on('response', resolve).on('error', reject);
      req.write(body.slice(0, 5));
      // The rest arrives after the session was logged out (from the same browser, another tab).
      setTimeout(() => {
        void browser.agent
          .post('/logout')
          .type('form')
          .send({ _csrf: token })
          .then(() => req.end(body.slice(5)));
      }, 50);
    });
    const res = await answer;
    res.resume();
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2F');
    const minted = (res.headers['set-cookie'] ?? []).find((c) => c.startsWith('ttt.sid='))?.split(';')[0];
    for (const cookie of [browser.cookie, minted].filter(Boolean)) {
      expect((await request(a.url).get('/account').set('Cookie', cookie!)).status).toBe(303);
    }
  });

  it('sockets opened while the session is being logged out do not outlive it', async () => {
    const first = request.agent(a.url);
    const { username } = await registerUser(first);
    for (let round = 0; round < 8; round++) {
      const browser = await logIn(username);
      const token = csrfTokenIn((await browser.agent.get('/account')).text);
      const opening = Array.from({ length: 4 }, (_, i) =>
        new Promise((resolve) => setTimeout(resolve, i * 3)).then(() => openSocket(i % 2 ? a.url : b.url, browser.cookie).catch(() => undefined)),
      );
      const logout = new Promise((resolve) => setTimeout(resolve, 4)).then(() => browser.agent.post('/logout').type('form').send({ _csrf: token }));
      const [opened] = await Promise.all([Promise.all(opening), logout]);
      const live = opened.filter((s): s is TestSocket => s !== undefined);
      sockets.push(...live);
      await new Promise((resolve) => setTimeout(resolve, WITHIN_MS));
      // Sockets opened after the logout are a visitor's (they may watch); none acts for the session.
      const signedInOpen = live.filter((s) => s.ws.readyState === s.ws.OPEN && s.messages.some((m) => m.type === 'hello' && m.signedIn));
      expect(signedInOpen.length).toBe(0);
    }
  });
});

describe.each(databaseKinds)('a destroyed session stays destroyed (%s database)', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    // A real bcrypt cost, so that a wrong password keeps the request busy for a while.
    t = await startTestApp(kind, { env: { BCRYPT_COST: '12' } });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('a login with the old password still being checked when the password changes fails', async () => {
    const username = `inflight${Date.now() % 1e6}`;
    await submitForm(request.agent(t.app), '/register', '/register', { username, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD });
    const login = submitForm(request.agent(t.app), '/login', '/login', { username, password: GOOD_PASSWORD }).then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 60));
    // The owner changes the password (as the account page or a reset would) while bcrypt runs.
    await t.db.pool.query(
      `UPDATE users SET password_hash = $2, sessions_valid_after = date_trunc('milliseconds', now()) WHERE username = $1`,
      [username, await bcrypt.hash('the new passphrase', 4)],
    );
    expect((await login).status).toBe(401);
  });

  it('a slow request that loaded the session before logout does not bring it back', async () => {
    const browser = request.agent(t.app);
    const registered = await submitForm(browser, '/register', '/register', { username: `late${Date.now() % 1e6}`, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD });
    const cookie = sessionCookie(registered)!;
    const sid = decodeURIComponent(cookie.split('=')[1]!).slice(2).split('.')[0]!;
    const account = await browser.get('/account');
    const token = csrfTokenIn(account.text);
    // Its hourly refresh is due, so the slow request will write the session when it ends.
    await t.db.pool.query(`UPDATE session SET sess = jsonb_set(sess::jsonb, '{refreshedAt}', '0')::json WHERE sid = $1`, [sid]);

    const slow = browser.post('/account/password').type('form').send({ _csrf: token, currentPassword: 'not my password at all', newPassword: 'x', confirm: 'x' });
    const slowDone = slow.then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const logout = await browser.post('/logout').type('form').send({ _csrf: token });
    expect(logout.status).toBe(303);
    expect((await slowDone).status).toBe(422);

    const { rows } = await t.db.pool.query('SELECT count(*)::int AS n FROM session WHERE sid = $1', [sid]);
    expect(rows[0].n).toBe(0);
    const replayed = await request(t.app).get('/account').set('Cookie', cookie);
    expect(replayed.status).toBe(303);
    expect(replayed.headers.location).toBe('/login?next=%2Faccount');
  });
});
