import bcrypt from 'bcrypt';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  csrfTokenIn,
  GOOD_PASSWORD,
  registerUser,
  sessionCookie,
  startTestApp,
  submitForm,
  uniqueName,
  type TestApp,
} from '../helpers/app.js';
import { databaseKinds } from '../helpers/database.js';

describe.each(databaseKinds)('accounts on the %s database', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  const agent = () => request.agent(t.app);
  const userCount = async (username: string) =>
    Number((await t.db.pool.query('SELECT count(*) FROM users WHERE lower(username) = lower($1)', [username])).rows[0].count);

  describe('register', () => {
    it('creates the account from the register page and signs it in', async () => {
      const a = agent();
      const username = uniqueName('Reg');
      const res = await submitForm(a, '/register', '/register', { username, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/');
      const home = await a.get('/');
      expect(home.text).toContain(`Welcome, ${username}!`);
      expect(home.text).toMatch(/<nav[\s\S]*Log out[\s\S]*<\/nav>/);
      expect(home.text).toContain(`>${username}</a>`);
    });

    it('creates the account from the login form\'s Create account button, without a confirm field', async () => {
      const a = agent();
      const username = uniqueName('Quick');
      const res = await submitForm(a, '/login', '/register', { from: 'login', username, password: GOOD_PASSWORD });
      expect(res.status).toBe(303);
      expect((await a.get('/account')).text).toContain(`Signed in as <strong>${username}</strong>`);
    });

    it('shows the login page again with the errors when Create account on the login form fails', async () => {
      const res = await submitForm(agent(), '/login', '/register', { from: 'login', username: 'ab', password: GOOD_PASSWORD });
      expect(res.status).toBe(422);
      expect(res.text).toContain('<h1>Log in</h1>');
      expect(res.text).toContain('Username must be 3 to 20 characters.');
    });

    const tooLong = 'é'.repeat(37); // 37 characters, 74 bytes
    it.each([
      ['', GOOD_PASSWORD, GOOD_PASSWORD, 'Enter a username.'],
      ['ab', GOOD_PASSWORD, GOOD_PASSWORD, 'Username must be 3 to 20 characters.'],
      ['a'.repeat(21), GOOD_PASSWORD, GOOD_PASSWORD, 'Username must be 3 to 20 characters.'],
      ['bad name!', GOOD_PASSWORD, GOOD_PASSWORD, 'Username may contain only letters, digits, and the characters _ - .'],
      ['<script>', GOOD_PASSWORD, GOOD_PASSWORD, 'Username may contain only letters, digits, and the characters _ - .'],
      ['Admin', GOOD_PASSWORD, GOOD_PASSWORD, 'That username is reserved. Choose another.'],
      ['computer', GOOD_PASSWORD, GOOD_PASSWORD, 'That username is reserved. Choose another.'],
      ['newbie', '', '', 'Enter a password.'],
      ['newbie', 'short', 'short', 'Password must be at least 8 characters.'],
      ['newbie', tooLong, tooLong, 'Password must be at most 72 bytes'],
      ['newbie', 'newbie-rocks-42', 'newbie-rocks-42', 'Password must not contain your username.'],
      ['newbie', 'password123', 'password123', 'That password is too common.'],
      ['newbie', 'iloveyou', 'iloveyou', 'That password is too common.'],
      ['newbie', GOOD_PASSWORD, 'something else', 'Passwords do not match.'],
    ])('refuses username %j / password %j with "%s"', async (username, password, confirm, message) => {
      const res = await submitForm(agent(), '/register', '/register', { username, password, confirm });
      expect(res.status).toBe(422);
      expect(res.text).toMatch(/role="alert"/);
      expect(res.text).toContain(message.replaceAll("'", '&#39;'));
      expect(await userCount(username)).toBe(0);
    });

    it('keeps the username in the form, escaped', async () => {
      const typed = '"><script>alert(1)</script>';
      const res = await submitForm(agent(), '/register', '/register', { username: typed, password: 'x', confirm: 'x' });
      expect(res.status).toBe(422);
      expect(res.text).not.toContain('<script>alert(1)</script>');
      expect(res.text).toContain('value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    });

    it('refuses a name that differs only in letter case, and keeps the first as typed', async () => {
      const username = uniqueName('CaseName');
      await registerUser(agent(), username);
      const res = await submitForm(agent(), '/register', '/register', {
        username: username.toLowerCase(),
        password: GOOD_PASSWORD,
        confirm: GOOD_PASSWORD,
      });
      expect(res.status).toBe(422);
      expect(res.text).toContain('That username is taken.');
      const { rows } = await t.db.pool.query('SELECT username FROM users WHERE lower(username) = lower($1)', [username]);
      expect(rows).toEqual([{ username }]);
    });

    it('treats arrays and other odd shapes as invalid input, not as a crash', async () => {
      const a = agent();
      const page = await a.get('/register');
      const res = await a
        .post('/register')
        .type('form')
        .send(`_csrf=${csrfTokenIn(page.text)}&username=one&username=two&password=x&confirm=x`);
      expect(res.status).toBe(422);
      expect(res.text).toContain('Enter a username.');
    });
  });

  describe('log in', () => {
    it('logs in with the right password, and gives a new session id (no fixation)', async () => {
      const { username, password } = await registerUser(agent());
      const a = agent();
      const loginPage = await a.get('/login');
      const before = sessionCookie(loginPage);
      expect(before).toBeDefined();
      const res = await a.post('/login').type('form').send({ _csrf: csrfTokenIn(loginPage.text), username, password });
      expect(res.status).toBe(303);
      const after = sessionCookie(res);
      expect(after).toBeDefined();
      expect(after).not.toBe(before);
      // The pre-login session id is worth nothing afterwards.
      const replay = await request(t.app).get('/account').set('Cookie', before!);
      expect(replay.status).toBe(303);
      expect((await a.get('/account')).status).toBe(200);
    });

    it('accepts the username in any letter case', async () => {
      const { username, password } = await registerUser(agent(), uniqueName('MiXeD'));
      const res = await submitForm(agent(), '/login', '/login', { username: username.toUpperCase(), password });
      expect(res.status).toBe(303);
    });

    it('says the same thing for a wrong password, an unknown user and a deactivated user', async () => {
      const { username, password } = await registerUser(agent());
      const deactivated = await registerUser(agent());
      await t.db.pool.query('UPDATE users SET is_active = false WHERE username = $1', [deactivated.username]);
      const attempts = [
        { username, password: 'wrong password here' },
        { username: uniqueName('ghost'), password },
        { username: deactivated.username, password: deactivated.password },
      ];
      for (const fields of attempts) {
        const res = await submitForm(agent(), '/login', '/login', fields);
        expect(res.status).toBe(401);
        expect(res.text).toContain('Invalid username or password');
        expect(res.text).toContain(`value="${fields.username}"`);
        expect(sessionCookie(res)).toBeUndefined();
      }
    });

    it('ends the existing sessions of a user who is deactivated', async () => {
      const a = agent();
      const { username } = await registerUser(a);
      expect((await a.get('/account')).status).toBe(200);
      await t.db.pool.query('UPDATE users SET is_active = false WHERE username = $1', [username]);
      const res = await a.get('/account');
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/login?next=%2Faccount');
    });

    it('honours a local next path and ignores one to another site', async () => {
      const { username, password } = await registerUser(agent());
      const local = await submitForm(agent(), '/login?next=/account', '/login', { username, password, next: '/account' });
      expect(local.headers.location).toBe('/account');
      for (const next of ['https://evil.example', '//evil.example', '/\\evil.example', 'javascript:alert(1)']) {
        const res = await submitForm(agent(), '/login', '/login', { username, password, next });
        expect(res.status).toBe(303);
        expect(res.headers.location).toBe('/');
      }
      const page = await agent().get('/login?next=https://evil.example');
      expect(page.text).toContain('name="next" value="/"');
    });

    it('sends visitors of a signed-in page to the login page and back', async () => {
      const res = await agent().get('/account');
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/login?next=%2Faccount');
    });
  });

  describe('log out', () => {
    it('offers a Log out button at GET /logout and does not log out on GET', async () => {
      const a = agent();
      await registerUser(a);
      const page = await a.get('/logout');
      expect(page.status).toBe(200);
      expect(page.text).toMatch(/<button type="submit" class="button primary">Log out<\/button>/);
      expect((await a.get('/account')).status).toBe(200);
    });

    it('deletes the session row, clears the cookie, and the old cookie no longer works', async () => {
      const a = agent();
      const registered = await submitForm(a, '/register', '/register', {
        username: uniqueName(),
        password: GOOD_PASSWORD,
        confirm: GOOD_PASSWORD,
      });
      const cookie = sessionCookie(registered)!;
      const sid = decodeURIComponent(cookie.split('=')[1]!).slice(2).split('.')[0];
      const rows = async () => (await t.db.pool.query('SELECT 1 FROM session WHERE sid = $1', [sid])).rowCount;
      expect(await rows()).toBe(1);

      const res = await submitForm(a, '/', '/logout', {});
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/?logged_out=1');
      expect(String(res.headers['set-cookie'])).toMatch(/ttt\.sid=;.*Expires=Thu, 01 Jan 1970/);
      expect(await rows()).toBe(0);

      const home = await a.get(String(res.headers.location));
      expect(home.text).toMatch(/role="status">You have been logged out\./);
      expect(home.text).toMatch(/<nav[\s\S]*Log in[\s\S]*Register[\s\S]*<\/nav>/);
      const replay = await request(t.app).get('/account').set('Cookie', cookie);
      expect(replay.status).toBe(303);
    });
  });

  describe('CSRF', () => {
    it('refuses a POST without a token (403), sends one with a wrong token back to the form, and changes nothing', async () => {
      const a = agent();
      await a.get('/register'); // a session with a real token exists
      const username = uniqueName('csrf');
      const fields = { username, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD };
      const missing = await a.post('/register').type('form').send(fields);
      expect(missing.status).toBe(403);
      expect(missing.text).toContain('This form has expired');
      const wrong = await a.post('/register').type('form').send({ ...fields, _csrf: 'not-the-token' });
      expect(wrong.status).toBe(303);
      expect(wrong.headers.location).toBe('/register');
      expect((await a.get('/register')).text).toContain('That page had expired, so nothing was done. Please try again.');
      expect(await userCount(username)).toBe(0);
    });

    it('a second tab\'s login form, submitted after logging in from the first, goes where it was going', async () => {
      const a = agent();
      const { username, password } = await registerUser(agent());
      const first = await a.get('/login?next=%2Fleaderboard');
      const second = await a.get('/login?next=%2Fleaderboard');
      expect((await a.post('/login').type('form').send({ _csrf: csrfTokenIn(first.text), username, password, next: '/leaderboard' })).status).toBe(303);
      const stale = await a.post('/login').type('form').send({ _csrf: csrfTokenIn(second.text), username, password, next: '/leaderboard' });
      expect(stale.status).toBe(303);
      expect(stale.headers.location).toBe('/leaderboard');
      expect((await a.get('/leaderboard')).text).toContain(`You are already signed in as ${username}.`);
      // The same for the register page.
      const register = await a.post('/register').type('form').send({ _csrf: csrfTokenIn(second.text), username: uniqueName('late'), password, confirm: password });
      expect(register.status).toBe(303);
      expect(register.headers.location).toBe('/');
    });

    it('a form opened before the session ended leads to the login page and back, changing nothing', async () => {
      const a = agent();
      await registerUser(a);
      const lobby = await a.get('/');
      const token = csrfTokenIn(lobby.text);
      // Logged out in another tab.
      expect((await a.post('/logout').type('form').send({ _csrf: token })).status).toBe(303);
      const games = Number((await t.db.pool.query('SELECT count(*) FROM games')).rows[0].count);
      const stale = await a.post('/games').set('Referer', 'http://127.0.0.1/leaderboard').set('Host', '127.0.0.1').type('form').send({ _csrf: token, mode: 'ai' });
      expect(stale.status).toBe(303);
      expect(stale.headers.location).toBe('/login?next=%2Fleaderboard');
      expect((await a.get('/login')).text).toContain('Your session has ended, so nothing was done. Log in to continue.');
      expect(Number((await t.db.pool.query('SELECT count(*) FROM games')).rows[0].count)).toBe(games);
    });

    it('a form opened before logging in again goes back to its page, changing nothing', async () => {
      const a = agent();
      const { username, password } = await registerUser(a);
      const token = csrfTokenIn((await a.get('/')).text);
      // A new login (another tab's form) gives this browser a new session, and a new token.
      expect((await a.post('/login').type('form').send({ _csrf: token, username, password })).status).toBe(303);
      const games = Number((await t.db.pool.query('SELECT count(*) FROM games')).rows[0].count);
      const stale = await a.post('/games').type('form').send({ _csrf: token, mode: 'ai' });
      expect(stale.status).toBe(303);
      expect(stale.headers.location).toBe('/');
      expect((await a.get('/')).text).toContain('That form had expired, so nothing was done. Please try again.');
      expect(Number((await t.db.pool.query('SELECT count(*) FROM games')).rows[0].count)).toBe(games);
    });

    it('refuses a POST whose Origin is another site, even with a valid token', async () => {
      const a = agent();
      const page = await a.get('/register');
      const username = uniqueName('origin');
      const res = await a
        .post('/register')
        .set('Origin', 'https://evil.example')
        .type('form')
        .send({ _csrf: csrfTokenIn(page.text), username, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD });
      expect(res.status).toBe(403);
      expect(res.text).toContain('came from another site');
      expect(await userCount(username)).toBe(0);
    });

    it('does not log out a signed-in user on a forged POST', async () => {
      const a = agent();
      await registerUser(a);
      const res = await a.post('/logout').type('form').send({});
      expect(res.status).toBe(403);
      expect((await a.get('/account')).status).toBe(200);
    });

    it('refuses a password change without the token', async () => {
      const a = agent();
      const { username, password } = await registerUser(a);
      const res = await a
        .post('/account/password')
        .type('form')
        .send({ currentPassword: password, newPassword: 'another good one 9', confirm: 'another good one 9' });
      expect(res.status).toBe(403);
      expect((await submitForm(agent(), '/login', '/login', { username, password })).status).toBe(303);
    });
  });

  describe('change password', () => {
    it('needs the current password and the rules of a new one', async () => {
      const a = agent();
      const { password } = await registerUser(a);
      const wrong = await submitForm(a, '/account', '/account/password', {
        currentPassword: 'not my password',
        newPassword: 'a brand new secret',
        confirm: 'a brand new secret',
      });
      expect(wrong.status).toBe(422);
      expect(wrong.text).toContain('Your current password is not correct.');
      const common = await submitForm(a, '/account', '/account/password', {
        currentPassword: password,
        newPassword: 'password1',
        confirm: 'password1',
      });
      expect(common.status).toBe(422);
      expect(common.text).toContain('That password is too common.');
    });

    it('ends every other session of the user and keeps this one', async () => {
      const here = agent();
      const elsewhere = agent();
      const { username, password } = await registerUser(here);
      expect((await submitForm(elsewhere, '/login', '/login', { username, password })).status).toBe(303);
      expect((await elsewhere.get('/account')).status).toBe(200);

      const newPassword = 'a brand new secret';
      const res = await submitForm(here, '/account', '/account/password', { currentPassword: password, newPassword, confirm: newPassword });
      expect(res.status).toBe(303);
      const account = await here.get('/account');
      expect(account.status).toBe(200);
      expect(account.text).toContain('Your password has been changed.');

      expect((await elsewhere.get('/account')).status).toBe(303);
      expect((await submitForm(agent(), '/login', '/login', { username, password })).status).toBe(401);
      expect((await submitForm(agent(), '/login', '/login', { username, password: newPassword })).status).toBe(303);
    });
  });

  describe('one password rule at every check', () => {
    // 60 ASCII letters and 6 two-byte letters: 66 characters, exactly 72 bytes.
    const exactly72 = `${'Ab1'.repeat(20)}éèêëàâ`;
    const pasted = `${exactly72}!`;

    it('a password of exactly 72 bytes does not match with one more character, at login, change and delete', async () => {
      expect(Buffer.byteLength(exactly72)).toBe(72);
      const a = agent();
      const { username } = await registerUser(a, uniqueName('Long'), exactly72);
      expect((await submitForm(agent(), '/login', '/login', { username, password: pasted })).status).toBe(401);
      const change = await submitForm(a, '/account', '/account/password', { currentPassword: pasted, newPassword: 'another long passphrase', confirm: 'another long passphrase' });
      expect(change.status).toBe(422);
      expect(change.text).toContain('Your current password is not correct.');
      const remove = await submitForm(a, '/account', '/account/delete', { password: pasted });
      expect(remove.status).toBe(422);
      expect(await userCount(username)).toBe(1);
      expect((await submitForm(agent(), '/login', '/login', { username, password: exactly72 })).status).toBe(303);
    });

    const composed = 'Crème-Brûlée-du-Château'.normalize('NFC');
    const decomposed = composed.normalize('NFD');

    it('the same password typed composed (NFC) or decomposed (NFD) is one password', async () => {
      const { username } = await registerUser(agent(), uniqueName('Uni'), composed);
      expect((await submitForm(agent(), '/login', '/login', { username, password: decomposed })).status).toBe(303);
      const other = await registerUser(agent(), uniqueName('Uni'), decomposed);
      expect((await submitForm(agent(), '/login', '/login', { username: other.username, password: composed })).status).toBe(303);
    });

    it('an account whose hash was made from decomposed input keeps working, and its hash is renewed', async () => {
      const username = uniqueName('Old');
      const legacy = await bcrypt.hash(decomposed, 4);
      await t.db.pool.query('INSERT INTO users (username, password_hash) VALUES ($1, $2)', [username, legacy]);
      expect((await submitForm(agent(), '/login', '/login', { username, password: decomposed })).status).toBe(303);
      const { rows } = await t.db.pool.query('SELECT password_hash FROM users WHERE username = $1', [username]);
      expect(rows[0].password_hash).not.toBe(legacy);
      expect((await submitForm(agent(), '/login', '/login', { username, password: composed })).status).toBe(303);
    });

    it('spaces around the username at login are not part of it', async () => {
      const { username, password } = await registerUser(agent());
      expect((await submitForm(agent(), '/login', '/login', { username: `  ${username} `, password })).status).toBe(303);
    });
  });

  describe('hardening', () => {
    it('refuses an oversized body with 413 and a readable page', async () => {
      const a = agent();
      const page = await a.get('/login');
      const res = await a
        .post('/login')
        .type('form')
        .send({ _csrf: csrfTokenIn(page.text), username: 'x', password: 'y'.repeat(20_000) });
      expect(res.status).toBe(413);
      expect(res.text).toContain('That request is too large.');
    });

    it('sends security headers with a CSP that allows no inline script or style', async () => {
      const res = await agent().get('/login');
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("style-src-attr 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    });

    it('sets the session cookie HttpOnly and SameSite=Lax, and none for a visitor of the home page', async () => {
      const visitor = await agent().get('/');
      expect(visitor.headers['set-cookie']).toBeUndefined();
      const login = await agent().get('/login');
      const cookie = String(login.headers['set-cookie']);
      expect(cookie).toMatch(/^ttt\.sid=/);
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Lax/);
    });

    it('serves the 404 page in the site layout', async () => {
      const res = await agent().get('/no/such/page');
      expect(res.status).toBe(404);
      expect(res.text).toContain('Page not found');
      expect(res.text).toContain('<nav');
    });

    it('answers the health probes', async () => {
      expect((await agent().get('/healthz')).text).toBe('ok');
      expect((await agent().get('/readyz')).status).toBe(200);
    });
  });
});
