/**
 * Login and registration limits, with windows of six seconds. One database per kind holds the
 * counters of several apps, each with one rule tightened; every test comes from its own address
 * (X-Forwarded-For behind a trusted loopback proxy), so the tests can run side by side and their
 * waits overlap.
 */
import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, it, type ExpectStatic } from 'vitest';
import { createApplication } from '../../src/application.js';
import type { AuthLimitRules, LimitRule } from '../../src/auth/rate-limit.js';
import { loadConfig } from '../../src/config.js';
import { postgresBus, type EventBus } from '../../src/db/events.js';
import { GOOD_PASSWORD, registerUser, submitForm, uniqueName, type Agent } from '../helpers/app.js';
import { createTestDatabase, databaseKinds, silentLogger, type TestDatabase } from '../helpers/database.js';

/** Every rule out of reach, so that each app can tighten the one it is about. */
const OPEN: AuthLimitRules = {
  loginFailuresPerIp: { points: 10_000, seconds: 60 },
  loginFailuresPerUsername: { points: 10_000, seconds: 60 },
  loginFailuresPerDevice: { points: 10_000, seconds: 60 },
  registerPerIp: { points: 10_000, seconds: 60 },
  registerRefusedPerIp: { points: 10_000, seconds: 60 },
  registerPerUsername: { points: 10_000, seconds: 60 },
  resetPerIp: { points: 10_000, seconds: 60 },
  resetPerAccount: { points: 10_000, seconds: 60 },
  emailPerAccount: { points: 10_000, seconds: 60 },
};

// Long enough that n attempts fit in one window even on a loaded CI machine.
const WINDOW: LimitRule = { points: 3, seconds: 6 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let lastAddress = 0;
/** A client address of its own for each test: 198.51.100.x (TEST-NET-2). */
const newAddress = () => `198.51.100.${(lastAddress += 1)}`;

/** The answer to a blocked attempt: 429, a Retry-After within the window, a page that says when. */
function expectBlocked(expect: ExpectStatic, res: request.Response): number {
  expect(res.status).toBe(429);
  const retryAfter = Number(res.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW.seconds);
  expect(res.text).toContain('<title>Too many attempts');
  expect(res.text).toMatch(new RegExp(`role="alert">Too many attempts\\. Try again in ${retryAfter} seconds?\\.<`));
  return retryAfter;
}

/** Sleeps until a block that said "retry after n seconds" has surely passed. */
const waitOut = (retryAfter: number) => sleep(retryAfter * 1000 + 250);

describe.concurrent.each(databaseKinds)('rate limits on the %s database', (kind) => {
  let db: TestDatabase;
  let bus: EventBus;
  const closers: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    bus = await postgresBus(db.pool, db.url, silentLogger);
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await bus?.close();
    await db?.drop();
  });

  /** The real app on this file's database, with one rule tightened and the proxy on loopback trusted. */
  async function appWith(rules: Partial<AuthLimitRules>): Promise<Express> {
    const config = loadConfig({
      NODE_ENV: 'test',
      SESSION_SECRET: 'test-secret-that-is-long-enough-for-the-schema',
      BCRYPT_COST: '4',
      LOG_LEVEL: 'silent',
      TRUST_PROXY: 'loopback',
    });
    const application = await createApplication(config, { db, logger: silentLogger, bus, authLimits: { ...OPEN, ...rules } });
    closers.push(() => application.close({ force: true }));
    return application.app;
  }

  /** A browser at the given address: a new one per call, with its own cookies. */
  const browserAt = (app: Express, address: string): Agent => request.agent(app).set('X-Forwarded-For', address);

  const userCount = async (username: string) =>
    Number((await db.pool.query('SELECT count(*) FROM users WHERE lower(username) = lower($1)', [username])).rows[0].count);

  describe.concurrent('failed logins per username', () => {
    let app: Express;
    beforeAll(async () => {
      app = await appWith({ loginFailuresPerUsername: WINDOW });
    });
    // Each attempt from a different address: the limit is about the account, wherever guesses come from.
    const logIn = (fields: Record<string, string>) => submitForm(browserAt(app, newAddress()), '/login', '/login', fields);

    it('blocks the account after n failures, even for the right password, and lets it in after the window', async ({ expect }) => {
      const { username, password } = await registerUser(browserAt(app, newAddress()));
      const lastLogin = async () => (await db.pool.query('SELECT last_login_at FROM users WHERE username = $1', [username])).rows[0].last_login_at;
      const registeredAt = await lastLogin();
      for (let i = 0; i < WINDOW.points; i += 1) {
        expect((await logIn({ username, password: `wrong password ${i}` })).status).toBe(401);
      }
      const retryAfter = expectBlocked(expect, await logIn({ username, password: 'wrong password again' }));

      // The right password does not get through while the account is blocked, in any letter case.
      expectBlocked(expect, await logIn({ username, password }));
      expectBlocked(expect, await logIn({ username: username.toUpperCase(), password }));
      expect(await lastLogin()).toEqual(registeredAt);

      await waitOut(retryAfter);
      const browser = browserAt(app, newAddress());
      expect((await submitForm(browser, '/login', '/login', { username, password })).status).toBe(303);
      expect((await browser.get('/account')).status).toBe(200);
    });

    it('counts failures per account: another account is not blocked', async ({ expect }) => {
      const victim = await registerUser(browserAt(app, newAddress()));
      const other = await registerUser(browserAt(app, newAddress()));
      for (let i = 0; i < WINDOW.points; i += 1) {
        await logIn({ username: victim.username, password: 'not it at all' });
      }
      expectBlocked(expect, await logIn(victim));
      expect((await logIn(other)).status).toBe(303);
    });

    it('forgets earlier failures after a successful login', async ({ expect }) => {
      const { username, password } = await registerUser(browserAt(app, newAddress()));
      for (let round = 0; round < 3; round += 1) {
        for (let i = 0; i < WINDOW.points - 1; i += 1) {
          expect((await logIn({ username, password: 'wrong one here' })).status).toBe(401);
        }
        expect((await logIn({ username, password })).status).toBe(303);
      }
    });
  });

  describe.concurrent('failed logins from a browser the account was used in', () => {
    let app: Express;
    beforeAll(async () => {
      app = await appWith({ loginFailuresPerUsername: WINDOW, loginFailuresPerDevice: WINDOW });
    });
    const logIn = (fields: Record<string, string>) => submitForm(browserAt(app, newAddress()), '/login', '/login', fields);
    /** A browser that registered (or logged in to) an account and logged out again: it holds the account's device cookie. */
    const ownersBrowser = async (expect: ExpectStatic) => {
      const browser = browserAt(app, newAddress());
      const { username, password } = await registerUser(browser);
      expect((await submitForm(browser, '/logout', '/logout', {})).status).toBe(303);
      return { browser, account: { username, password } };
    };

    it('lets the owner in from their own browser while strangers have locked the account', async ({ expect }) => {
      const { browser, account } = await ownersBrowser(expect);
      for (let i = 0; i < WINDOW.points; i += 1) {
        expect((await logIn({ username: account.username, password: `a guess ${i}` })).status).toBe(401);
      }
      expectBlocked(expect, await logIn(account));

      // Another account's browser, and a forged cookie, get no exemption.
      const other = await ownersBrowser(expect);
      expectBlocked(expect, await submitForm(other.browser, '/login', '/login', account));
      const forged = browserAt(app, newAddress()).set('Cookie', `ttt.device=${'A'.repeat(22)}.${'B'.repeat(43)}`);
      expectBlocked(expect, await submitForm(forged, '/login', '/login', account));

      const res = await submitForm(browser, '/login', '/login', account);
      expect(res.status).toBe(303);
      expect((await browser.get('/account')).status).toBe(200);
    });

    it('counts failures from the owner\'s browser against that browser, not against the account', async ({ expect }) => {
      const { browser, account } = await ownersBrowser(expect);
      for (let i = 0; i < WINDOW.points; i += 1) {
        expect((await submitForm(browser, '/login', '/login', { username: account.username, password: `a typo ${i}` })).status).toBe(401);
      }
      expectBlocked(expect, await submitForm(browser, '/login', '/login', account));
      // The account itself was not touched: a new browser gets in.
      expect((await logIn(account)).status).toBe(303);
    });
  });

  describe.concurrent('logins per address', () => {
    let app: Express;
    beforeAll(async () => {
      app = await appWith({ loginFailuresPerIp: WINDOW });
    });

    it('blocks every login from the address after n failures on any accounts, then allows it again; successes do not count', async ({ expect }) => {
      const address = newAddress();
      // Registering is not a login attempt.
      const { username, password } = await registerUser(browserAt(app, address));
      const logIn = (fields: Record<string, string>) => submitForm(browserAt(app, address), '/login', '/login', fields);

      expect((await logIn({ username: uniqueName('ghost'), password: 'whatever it is' })).status).toBe(401);
      expect((await logIn({ username, password: 'wrong password' })).status).toBe(401);
      // People sharing one address log in as often as they like.
      for (let i = 0; i < WINDOW.points + 1; i += 1) expect((await logIn({ username, password })).status).toBe(303);
      expect((await logIn({ username: uniqueName('ghost'), password: 'whatever it is' })).status).toBe(401);
      const retryAfter = expectBlocked(expect, await logIn({ username, password }));
      expectBlocked(expect, await logIn({ username: uniqueName('other'), password: 'anything at all' }));

      // Another address is not affected.
      expect((await submitForm(browserAt(app, newAddress()), '/login', '/login', { username, password })).status).toBe(303);

      await waitOut(retryAfter);
      expect((await logIn({ username, password })).status).toBe(303);
    });

    it('answers a script that asks for JSON with JSON', async ({ expect }) => {
      const address = newAddress();
      const post = () =>
        submitForm(browserAt(app, address).set('Accept', 'application/json'), '/login', '/login', {
          username: 'nobody',
          password: 'nothing at all',
        });
      for (let i = 0; i < WINDOW.points; i += 1) expect((await post()).status).toBe(401);
      const res = await post();
      expect(res.status).toBe(429);
      const retryAfter = Number(res.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(WINDOW.seconds);
      expect(res.body).toEqual({ error: `Too many attempts. Try again in ${retryAfter === 1 ? '1 second' : `${retryAfter} seconds`}.` });
    });
  });

  describe.concurrent('registrations per address', () => {
    let app: Express;
    beforeAll(async () => {
      app = await appWith({ registerPerIp: WINDOW });
    });

    it('blocks registrations from one address after n accounts made, from both forms; refused ones do not count', async ({ expect }) => {
      const address = newAddress();
      await registerUser(browserAt(app, address));
      // A class with typos: refused registrations are not accounts made.
      for (const username of ['ab', 'a b c']) {
        const refused = await submitForm(browserAt(app, address), '/register', '/register', { username, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD });
        expect(refused.status).toBe(422);
      }
      // The login form's Create account button counts against the same limit.
      const quick = await submitForm(browserAt(app, address), '/login', '/register', { from: 'login', username: uniqueName('quick'), password: GOOD_PASSWORD });
      expect(quick.status).toBe(303);
      await registerUser(browserAt(app, address));

      const username = uniqueName('late');
      const fields = { username, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD };
      const retryAfter = expectBlocked(expect, await submitForm(browserAt(app, address), '/register', '/register', fields));
      expectBlocked(expect, await submitForm(browserAt(app, address), '/login', '/register', { from: 'login', ...fields }));
      expect(await userCount(username)).toBe(0);

      await waitOut(retryAfter);
      await registerUser(browserAt(app, address), username);
      expect(await userCount(username)).toBe(1);
    });
  });

  describe.concurrent('registrations blocked for their name', () => {
    let app: Express;
    beforeAll(async () => {
      app = await appWith({ registerPerIp: WINDOW, registerPerUsername: WINDOW });
    });

    it('do not use up the address\'s accounts', async ({ expect }) => {
      const address = newAddress();
      const taken = uniqueName('taken');
      await registerUser(browserAt(app, newAddress()), taken);
      const statuses: number[] = [];
      for (let i = 0; i < WINDOW.points + 2; i++) {
        const res = await submitForm(browserAt(app, address), '/register', '/register', { username: taken, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD });
        statuses.push(res.status);
      }
      expect(statuses.slice(-2)).toEqual([429, 429]);
      for (let i = 0; i < WINDOW.points; i++) await registerUser(browserAt(app, address));
    });
  });

  describe.concurrent('refused registrations per address', () => {
    let app: Express;
    beforeAll(async () => {
      app = await appWith({ registerRefusedPerIp: WINDOW });
    });

    it('blocks an address after n refused registrations, even a valid one then', async ({ expect }) => {
      const address = newAddress();
      for (let i = 0; i < WINDOW.points; i++) {
        const refused = await submitForm(browserAt(app, address), '/register', '/register', { username: 'x', password: GOOD_PASSWORD, confirm: GOOD_PASSWORD });
        expect(refused.status).toBe(422);
      }
      const username = uniqueName('after');
      expectBlocked(expect, await submitForm(browserAt(app, address), '/register', '/register', { username, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD }));
      expect(await userCount(username)).toBe(0);
      // Another address is not affected.
      await registerUser(browserAt(app, newAddress()));
    });
  });

  describe.concurrent('registrations per username', () => {
    let app: Express;
    beforeAll(async () => {
      app = await appWith({ registerPerUsername: WINDOW });
    });

    it('blocks repeated attempts at one name from anywhere, in any letter case, but not other names', async ({ expect }) => {
      const name = uniqueName('Wanted');
      const attempt = (username: string, password = 'short') =>
        submitForm(browserAt(app, newAddress()), '/register', '/register', { username, password, confirm: password });
      for (const username of [name, name.toLowerCase(), name.toUpperCase()]) {
        expect((await attempt(username)).status).toBe(422);
      }
      expectBlocked(expect, await attempt(name, GOOD_PASSWORD));
      expect(await userCount(name)).toBe(0);
      expect((await attempt(uniqueName('Other'), GOOD_PASSWORD)).status).toBe(303);
    });
  });
});
