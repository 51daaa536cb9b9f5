/**
 * Sessions behind an https proxy, and account enumeration.
 *
 * With PUBLIC_ORIGIN=https://… and TRUST_PROXY=1, a request that nginx received over https
 * (X-Forwarded-Proto: https) gets a session cookie that is Secure, HttpOnly and SameSite=Lax, and
 * HSTS. A failed login says the same thing, with the same status, and takes about as long, whether
 * the account exists or not; registration takes about as long for a taken name as for a free one.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfTokenIn, GOOD_PASSWORD, registerUser, startTestApp, uniqueName, type TestApp } from '../helpers/app.js';
import { databaseKinds } from '../helpers/database.js';

const ORIGIN = 'https://ttt.example';

const cookiesOf = (res: { headers: Record<string, unknown> }) => (res.headers['set-cookie'] as string[] | undefined) ?? [];
const sessionCookieHeader = (res: { headers: Record<string, unknown> }) => cookiesOf(res).find((c) => c.startsWith('ttt.sid='));

describe.each(databaseKinds)('sessions behind an https proxy on the %s database', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind, { env: { PUBLIC_ORIGIN: ORIGIN, TRUST_PROXY: '1' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  /**
   * A browser behind nginx: every request arrives with the proxy's headers. The cookie is kept by
   * hand: a cookie jar rightly never sends a Secure cookie to the plain-http test address.
   */
  const viaHttps = () => {
    let cookie = '';
    const keep = (res: request.Response) => {
      const set = sessionCookieHeader(res);
      if (set) cookie = set.split(';')[0]!;
      return res;
    };
    const headers = (r: request.Test) => r.set('X-Forwarded-Proto', 'https').set('Host', 'ttt.example').set('Cookie', cookie);
    return {
      get: (path: string) => headers(request(t.app).get(path)).then(keep),
      post: (path: string, fields: Record<string, string>, origin = ORIGIN) =>
        headers(request(t.app).post(path)).set('Origin', origin).type('form').send(fields).then(keep),
    };
  };

  const expectStrictCookie = (cookie: string | undefined) => {
    expect(cookie).toBeDefined();
    const attributes = cookie!.split(';').map((part) => part.trim().toLowerCase());
    expect(attributes).toContain('secure');
    expect(attributes).toContain('httponly');
    expect(attributes).toContain('samesite=lax');
    expect(attributes).toContain('path=/');
  };

  it('sets the session cookie Secure, HttpOnly and SameSite=Lax, at login too, and sends HSTS', { timeout: 60_000 }, async () => {
    const browser = viaHttps();
    const page = await browser.get('/login');
    expect(page.status).toBe(200);
    expectStrictCookie(sessionCookieHeader(page));
    expect(String(page.headers['strict-transport-security'])).toMatch(/max-age=\d{7,}/);
    expect(String(page.headers['content-security-policy'])).toContain('upgrade-insecure-requests');

    const username = uniqueName('https');
    const registered = await browser.post('/register', { _csrf: csrfTokenIn(page.text), username, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD });
    expect(registered.status).toBe(303);
    expectStrictCookie(sessionCookieHeader(registered));

    const logout = await browser.get('/logout');
    const out = await browser.post('/logout', { _csrf: csrfTokenIn(logout.text) });
    expect(out.status).toBe(303);
    // The cookie is cleared with the same flags it was set with.
    expectStrictCookie(sessionCookieHeader(out));

    const again = await browser.get('/login');
    const login = await browser.post('/login', { _csrf: csrfTokenIn(again.text), username, password: GOOD_PASSWORD });
    expect(login.status).toBe(303);
    expectStrictCookie(sessionCookieHeader(login));
  });

  it('never sends the Secure cookie over plain http', { timeout: 60_000 }, async () => {
    const plain = await request(t.app).get('/login').set('Host', 'ttt.example');
    expect(plain.status).toBe(200);
    expect(sessionCookieHeader(plain)).toBeUndefined();
    const proxiedHttp = await request(t.app).get('/login').set('X-Forwarded-Proto', 'http');
    expect(sessionCookieHeader(proxiedHttp)).toBeUndefined();
  });

  it('refuses a POST whose Origin is the http twin of the site', { timeout: 60_000 }, async () => {
    const browser = viaHttps();
    const page = await browser.get('/login');
    const res = await browser.post('/login', { _csrf: csrfTokenIn(page.text), username: 'nobody', password: 'x' }, 'http://ttt.example');
    expect(res.status).toBe(403);
  });
});

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

describe('account enumeration, with the real bcrypt cost', () => {
  let t: TestApp;
  const TRIES = 10;
  beforeAll(async () => {
    t = await startTestApp('embedded', { env: { BCRYPT_COST: '10' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** One failed login from a fresh browser: its status, message and duration. */
  async function failedLogin(username: string) {
    const agent = request.agent(t.app);
    const page = await agent.get('/login');
    const started = performance.now();
    const res = await agent.post('/login').type('form').send({ _csrf: csrfTokenIn(page.text), username, password: 'wrong password 123' });
    const ms = performance.now() - started;
    const alert = /role="alert"[^>]*>([\s\S]*?)<\/(div|p|section)>/.exec(res.text)?.[1]?.replace(/<[^>]+>/g, '').trim();
    return { status: res.status, alert, ms };
  }

  it('answers a wrong password and an unknown user the same way, in about the same time', { timeout: 60_000 }, async () => {
    const { username } = await registerUser(request.agent(t.app));
    // Warm-up: the dummy hash is made on first use, and the first requests compile templates.
    await failedLogin(username);
    await failedLogin(uniqueName('ghost'));

    const existing: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < TRIES; i++) {
      // Interleaved, so that load from elsewhere on the machine falls on both alike.
      const a = await failedLogin(username);
      const b = await failedLogin(uniqueName('ghost'));
      expect(a.status).toBe(401);
      expect(b.status).toBe(401);
      expect(a.alert).toBe('Invalid username or password');
      expect(b.alert).toBe(a.alert);
      existing.push(a.ms);
      unknown.push(b.ms);
    }
    const ratio = median(existing) / median(unknown);
    console.info(
      `failed login, bcrypt cost 10: existing user median ${median(existing).toFixed(1)} ms, unknown user ${median(unknown).toFixed(1)} ms, ratio ${ratio.toFixed(2)}`,
    );
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
    // And it is bcrypt that takes the time in both (cost 10 is several milliseconds at least).
    expect(median(unknown)).toBeGreaterThan(5);
  });

  it('takes about as long to refuse a taken name at registration as to register a free one', { timeout: 60_000 }, async () => {
    const { username: taken } = await registerUser(request.agent(t.app));
    const register = async (username: string) => {
      const agent = request.agent(t.app);
      const page = await agent.get('/register');
      const started = performance.now();
      const res = await agent.post('/register').type('form').send({ _csrf: csrfTokenIn(page.text), username, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD });
      return { status: res.status, ms: performance.now() - started, text: res.text };
    };
    await register(uniqueName('warm'));
    const takenMs: number[] = [];
    const freeMs: number[] = [];
    for (let i = 0; i < 6; i++) {
      const a = await register(taken);
      const b = await register(uniqueName('free'));
      expect(a.status).toBe(422);
      expect(a.text).toContain('That username is taken.');
      expect(b.status).toBe(303);
      takenMs.push(a.ms);
      freeMs.push(b.ms);
    }
    const ratio = median(takenMs) / median(freeMs);
    console.info(`registration, bcrypt cost 10: taken name median ${median(takenMs).toFixed(1)} ms, free name ${median(freeMs).toFixed(1)} ms, ratio ${ratio.toFixed(2)}`);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});
