/**
 * A way back in, through a real SMTP server: an email address confirmed by a link, and "Forgot
 * your password?" with a single-use link that expires in an hour.
 */
import { once } from 'node:events';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfTokenIn, GOOD_PASSWORD, registerUser, sessionCookie, startTestApp, submitForm, uniqueName, type Agent, type TestApp } from '../helpers/app.js';
import { databaseKinds } from '../helpers/database.js';
import { isState, openSocket } from '../helpers/live.js';
import { startSmtp, type TestSmtp } from '../helpers/smtp.js';

const SENT = 'If an account matches, we have sent a link to its email address.';
const INVALID = 'This link has expired or has already been used.';
const NEW_PASSWORD = 'a brand new passphrase';

describe.each(databaseKinds)('password reset by email on the %s database', (kind) => {
  let t: TestApp;
  let smtp: TestSmtp;
  const origin = 'http://ttt.test:8443';

  beforeAll(async () => {
    smtp = await startSmtp();
    // PUBLIC_ORIGIN: mailed links point there, whatever Host a request names.
    t = await startTestApp(kind, { listen: true, env: { SMTP_URL: smtp.url, PUBLIC_ORIGIN: origin } });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  /** A browser on the listening app (its Origin header is the configured public one). */
  const browser = (): Agent => request.agent(t.url).set('Origin', origin);
  /** The path of a mailed link, which points at the public origin, for the test's own server. */
  const pathOf = (link: string | undefined) => {
    expect(link?.startsWith(`${origin}/`)).toBe(true);
    return new URL(link!).pathname;
  };

  /** A new account with a confirmed address; returns its names and a signed-in browser. */
  async function accountWithEmail() {
    const agent = browser();
    const username = uniqueName('mail');
    const email = `${username.toLowerCase()}@example.test`;
    const res = await submitForm(agent, '/register', '/register', { username, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD, email });
    expect(res.status).toBe(303);
    const mail = await smtp.next(email);
    expect(mail.raw).toContain('Confirm your email address');
    const confirmed = await confirm(agent, mail.link);
    expect(confirmed.status).toBe(200);
    expect(confirmed.text).toContain('Your email address is confirmed.');
    return { agent, username, email };
  }

  /** Opens a confirmation link and presses its button. */
  async function confirm(agent: Agent, link: string | undefined) {
    const page = await agent.get(pathOf(link));
    expect(page.status).toBe(200);
    const token = /name="token" value="([^"]+)"/.exec(page.text)![1];
    return agent.post('/account/email/confirm').type('form').send({ _csrf: csrfTokenIn(page.text), token });
  }

  /** Asks for a new address on the account page, with the account's password. */
  async function changeEmail(agent: Agent, email: string, password = GOOD_PASSWORD) {
    const page = await agent.get('/account');
    return agent.post('/account/email').type('form').send({ _csrf: csrfTokenIn(page.text), email, password });
  }

  async function forgot(login: string, agent = browser()) {
    const res = await submitForm(agent, '/forgot', '/forgot', { login });
    expect(res.status).toBe(200);
    expect(res.text).toContain(SENT);
    return res;
  }

  it('the login page links to the forgot page, which has the contract\'s names', async () => {
    const login = await browser().get('/login');
    expect(login.text).toMatch(/<a href="\/forgot">Forgot your password\?<\/a>/);
    const page = await browser().get('/forgot');
    expect(page.text).toContain('<label for="field-login">Username or email</label>');
    expect(page.text).toContain('>Send reset link</button>');
  });

  it('forgot → mail → new password: the link leaves the address bar, the old password and every other session end, sockets too', async () => {
    const { agent: first, username, email } = await accountWithEmail();
    // A second browser, following its own game over a socket.
    const second = browser();
    const loggedIn = await submitForm(second, '/login', '/login', { username, password: GOOD_PASSWORD });
    const game = String((await submitForm(second, '/', '/games', { mode: 'ai', level: 'perfect', playAs: 'X' })).headers.location).split('/').pop()!;
    const socket = await openSocket(t.url, sessionCookie(loggedIn), origin);
    socket.send({ type: 'subscribe', game });
    await socket.next(isState);
    const closed = once(socket.ws, 'close');

    const visitor = browser();
    await forgot(username.toUpperCase(), visitor);
    const mail = await smtp.next(email);
    expect(mail.raw).toContain(`reset the password of ${username}`);
    const opened = await visitor.get(pathOf(mail.link));
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe('/reset');
    const form = await visitor.get('/reset');
    expect(form.text).toContain(`<strong>${username}</strong>`);
    expect(form.text).toContain('<label for="field-newPassword">New password</label>');
    expect(form.text).toContain('<label for="field-confirm">Confirm new password</label>');
    expect(form.text).toContain('>Set password</button>');
    expect(form.text).not.toContain(new URL(mail.link!).pathname.split('/').pop()!);

    const set = await visitor.post('/reset').type('form').send({ _csrf: csrfTokenIn(form.text), newPassword: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(set.status).toBe(303);
    expect((await visitor.get('/account')).status).toBe(200);
    const [code] = await closed;
    expect(code).toBe(4001);
    for (const other of [first, second]) expect((await other.get('/account')).status).toBe(303);
    expect((await submitForm(browser(), '/login', '/login', { username, password: GOOD_PASSWORD })).status).toBe(401);
    expect((await submitForm(browser(), '/login', '/login', { username, password: NEW_PASSWORD })).status).toBe(303);

    // The link works once.
    const again = await browser().get(pathOf(mail.link));
    expect(again.status).toBe(400);
    expect(again.text).toContain(INVALID);
  });

  it('finds the account by its address in any letter case', async () => {
    const { email } = await accountWithEmail();
    await forgot(email.toUpperCase());
    expect((await smtp.next(email)).link).toBeDefined();
  });

  it('an unknown account gets the same page and no mail, in about the same time', async () => {
    const { username, email } = await accountWithEmail();
    const timed = async (login: string) => {
      const agent = browser();
      const page = await agent.get('/forgot');
      const started = performance.now();
      const res = await agent.post('/forgot').type('form').send({ _csrf: csrfTokenIn(page.text), login });
      return { ms: performance.now() - started, text: res.text.replace(/name="_csrf" value="[^"]+"/, '') };
    };
    const before = smtp.mails.length;
    const known: number[] = [];
    const unknown: number[] = [];
    let knownText = '';
    let unknownText = '';
    for (let i = 0; i < 5; i++) {
      const k = await timed(username);
      const u = await timed(`nobody-${i}-${username}`.slice(0, 20));
      known.push(k.ms);
      unknown.push(u.ms);
      knownText = k.text;
      unknownText = u.text;
    }
    expect(unknownText).toBe(knownText);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[2]!;
    console.info(`forgot: known account median ${median(known).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms`);
    // The lookup and the mail happen after the answer: both answers do the same work.
    expect(Math.abs(median(known) - median(unknown))).toBeLessThan(20);
    // The known account gets its five mails; the unknown names nothing.
    for (let i = 0; i < 5; i++) await smtp.next(email);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.mails.slice(before).map((m) => m.to)).toEqual(Array.from({ length: 5 }, () => [email]));
  });

  it('refuses an expired link with a clear message', async () => {
    const { username, email } = await accountWithEmail();
    await forgot(username);
    const mail = await smtp.next(email);
    await t.db.pool.query(`UPDATE email_tokens SET expires_at = now() - interval '1 second' WHERE purpose = 'reset_password'`);
    const res = await browser().get(pathOf(mail.link));
    expect(res.status).toBe(400);
    expect(res.text).toContain(INVALID);
  });

  it('a link dies when the password is changed another way, and a form held open then changes nothing', async () => {
    const { agent, username, email } = await accountWithEmail();
    await forgot(username);
    const mail = await smtp.next(email);
    const visitor = browser();
    await visitor.get(pathOf(mail.link));
    const form = await visitor.get('/reset');
    const changed = await submitForm(agent, '/account', '/account/password', { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(changed.status).toBe(303);
    const res = await visitor.post('/reset').type('form').send({ _csrf: csrfTokenIn(form.text), newPassword: 'yet another passphrase', confirm: 'yet another passphrase' });
    expect(res.status).toBe(400);
    expect(res.text).toContain(INVALID);
    expect((await submitForm(browser(), '/login', '/login', { username, password: NEW_PASSWORD })).status).toBe(303);
  });

  it('holds the new password to the same rules as everywhere', async () => {
    const { username, email } = await accountWithEmail();
    await forgot(username);
    const visitor = browser();
    await visitor.get(pathOf((await smtp.next(email)).link));
    const form = await visitor.get('/reset');
    const res = await visitor.post('/reset').type('form').send({ _csrf: csrfTokenIn(form.text), newPassword: 'password', confirm: 'password' });
    expect(res.status).toBe(422);
    expect(res.text).toContain('That password is too common.');
  });

  it('sends nothing for an account without a confirmed address', async () => {
    const { username } = await registerUser(browser());
    const before = smtp.mails.length;
    await forgot(username);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.mails.length).toBe(before);
  });

  it('the account page adds an address through a confirmation link; one confirmed elsewhere is refused', async () => {
    const { email: taken } = await accountWithEmail();
    const agent = browser();
    await registerUser(agent);
    const page = await agent.get('/account');
    expect(page.text).toContain('<label for="field-email">Email</label>');
    expect(page.text).toContain('>Save email</button>');
    const fresh = `${uniqueName('new').toLowerCase()}@example.test`;
    expect((await changeEmail(agent, fresh)).status).toBe(303);
    expect((await agent.get('/account')).text).toContain(`We have sent a link to ${fresh}.`);
    expect((await confirm(agent, (await smtp.next(fresh)).link)).status).toBe(200);
    expect((await agent.get('/account')).text).toContain(`<strong>${fresh}</strong>`);

    await changeEmail(agent, taken.toUpperCase());
    const refused = await confirm(agent, (await smtp.next(taken)).link);
    expect(refused.status).toBe(409);
    expect((await agent.get('/account')).text).toContain(`<strong>${fresh}</strong>`);
  });

  it('changing the address takes the password, tells the old address, and kills reset links sent there', async () => {
    const { agent, username, email } = await accountWithEmail();
    await forgot(username);
    const resetLink = (await smtp.next(email)).link;
    const next = `${uniqueName('moved').toLowerCase()}@example.test`;
    expect((await changeEmail(agent, next, 'not my password')).status).toBe(303);
    expect((await agent.get('/account')).text).toContain('That password is not correct.');
    expect((await changeEmail(agent, next)).status).toBe(303);
    await confirm(agent, (await smtp.next(next)).link);
    const notice = await smtp.next(email);
    expect(notice.raw).toContain(`The email address of the account ${username}`);
    const stale = await browser().get(pathOf(resetLink));
    expect(stale.status).toBe(400);
  });

  it('a pending address dies with a password change, so a stolen session cannot redirect resets', async () => {
    const { agent, username, email } = await accountWithEmail();
    const attacker = `${uniqueName('evil').toLowerCase()}@example.test`;
    await changeEmail(agent, attacker);
    const link = (await smtp.next(attacker)).link;
    await submitForm(agent, '/account', '/account/password', { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD, confirm: NEW_PASSWORD });
    const res = await confirm(browser(), link);
    expect(res.status).toBe(400);
    const { rows } = await t.db.pool.query('SELECT email FROM users WHERE username = $1', [username]);
    expect(rows[0].email).toBe(email);
  });

  it('opening a confirmation link (as a mail scanner does) confirms nothing; only its button does', async () => {
    const agent = browser();
    const { username } = await registerUser(agent);
    const address = `${uniqueName('scan').toLowerCase()}@example.test`;
    await changeEmail(agent, address);
    const link = (await smtp.next(address)).link;
    expect((await request(t.url).get(pathOf(link))).status).toBe(200);
    const { rows } = await t.db.pool.query('SELECT email FROM users WHERE username = $1', [username]);
    expect(rows[0].email).toBeNull();
  });

  it('a deactivated account\'s reset links die, and stay dead after it is reactivated', async () => {
    const { username, email } = await accountWithEmail();
    await forgot(username);
    const link = (await smtp.next(email)).link;
    const admin = browser();
    const { username: adminName } = await registerUser(admin);
    await t.db.pool.query('UPDATE users SET is_admin = true WHERE username = $1', [adminName]);
    const { rows } = await t.db.pool.query('SELECT id FROM users WHERE username = $1', [username]);
    for (const action of ['deactivate', 'activate']) {
      const list = await admin.get('/admin/users');
      expect((await admin.post(`/admin/users/${rows[0].id}/${action}`).type('form').send({ _csrf: csrfTokenIn(list.text) })).status).toBe(303);
    }
    expect((await browser().get(pathOf(link))).status).toBe(400);
  });

  it('refuses a malformed address with a message', async () => {
    const agent = browser();
    await registerUser(agent);
    await changeEmail(agent, 'not an address');
    expect((await agent.get('/account')).text).toContain('Enter an email address such as name@example.com.');
  });
});

describe('links in mail that really leaves', () => {
  it('need PUBLIC_ORIGIN: without it, "Forgot your password?" is off (a Host header would pick the link\'s site)', async () => {
    const smtp = await startSmtp();
    const t = await startTestApp('embedded', { env: { SMTP_URL: smtp.url } });
    try {
      expect((await request(t.app).get('/login')).text).not.toContain('Forgot your password?');
      expect((await request(t.app).get('/forgot').set('Host', 'evil.example')).status).toBe(404);
    } finally {
      await t.close();
      await smtp.close();
    }
  });
});

describe('without mail in production', () => {
  it('hides "Forgot your password?" and answers its pages with 404', async () => {
    const t = await startTestApp('embedded', { env: { NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40) } });
    try {
      expect((await request(t.app).get('/login')).text).not.toContain('Forgot your password?');
      expect((await request(t.app).get('/forgot')).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});
