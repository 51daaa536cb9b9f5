/**
 * The real start path: `node src/server.ts` (through tsx) with only environment variables, driven
 * over HTTP like a browser, stopped with SIGTERM and started again on the same data folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfTokenIn, GOOD_PASSWORD, uniqueName } from '../helpers/app.js';
import { createServerDatabase, serverUrl } from '../helpers/database.js';
import { logLines, runScript, startScript, type Running } from '../helpers/process.js';

const SERVER = 'src/server.ts';
/**
 * A first start on a new embedded database takes a few seconds on an idle machine (tsx, PGlite's
 * initdb, migrations) but several times that on a busy one: generous limits, as on a slow CI box.
 */
const START_MS = 90_000;
const STEP_MS = 150_000;

interface Started {
  process: Running;
  origin: string;
}

/** Starts the server on a free port and waits for its "listening" line. */
async function startServer(env: Record<string, string>): Promise<Started> {
  const running = startScript(SERVER, { PORT: '0', BCRYPT_COST: '4', LOG_LEVEL: 'info', ...env });
  try {
    const line = await running.waitForLine(/"msg":"listening on /, START_MS);
    const { port } = JSON.parse(line) as { port: number };
    return { process: running, origin: `http://127.0.0.1:${port}` };
  } catch (err) {
    running.child.kill('SIGKILL');
    throw err;
  }
}

/** Sends a signal and waits for the process to end, failing after `withinMs`. */
async function stop(server: Started, signal: NodeJS.Signals = 'SIGTERM', withinMs = 10_000) {
  const started = Date.now();
  server.process.child.kill(signal);
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`still running ${withinMs} ms after ${signal}`)), withinMs).unref(),
  );
  const finished = await Promise.race([server.process.exited, timeout]);
  return { ...finished, ms: Date.now() - started };
}

/** The `name=value` part of the session cookie a response sets, if any. */
function sessionCookieOf(res: Response): string | undefined {
  return res.headers
    .getSetCookie()
    .find((c) => c.startsWith('ttt.sid='))
    ?.split(';')[0];
}

/** A tiny browser: one cookie jar (the session cookie), no redirects followed. */
class Browser {
  cookie: string | undefined;
  constructor(readonly origin: string) {}

  async get(pathname: string): Promise<Response> {
    const res = await fetch(this.origin + pathname, {
      redirect: 'manual',
      headers: this.cookie ? { cookie: this.cookie } : {},
    });
    this.cookie = sessionCookieOf(res) ?? this.cookie;
    return res;
  }

  /** Loads the page, then posts its form with the page's CSRF token. */
  async submit(pagePath: string, action: string, fields: Record<string, string>): Promise<Response> {
    const page = await (await this.get(pagePath)).text();
    const res = await fetch(this.origin + action, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(this.cookie ? { cookie: this.cookie } : {}) },
      body: new URLSearchParams({ _csrf: csrfTokenIn(page), ...fields }).toString(),
    });
    this.cookie = sessionCookieOf(res) ?? this.cookie;
    return res;
  }
}

type Kind = 'embedded' | 'server';
const kinds: Kind[] = serverUrl ? ['embedded', 'server'] : ['embedded'];

describe.each(kinds)('npm start on the %s database', (kind) => {
  let dataDir: string;
  let env: Record<string, string>;
  let dropDatabase: (() => Promise<void>) | undefined;
  let current: Started | undefined;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'ttt-server-'));
    env = { DATA_DIR: dataDir };
    if (kind === 'server') {
      const database = await createServerDatabase();
      env.DATABASE_URL = database.url;
      dropDatabase = database.drop;
    }
  });
  afterAll(async () => {
    if (current && current.process.child.exitCode === null) current.process.child.kill('SIGKILL');
    await dropDatabase?.();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const username = uniqueName('Starter');
  let sessionCookie: string | undefined;

  it('starts, serves the pages, and registers a user through the form', async () => {
    current = await startServer(env);
    const started = logLines(current.process.stdout).find((l) => String(l.msg).startsWith('listening on'));
    expect(started).toMatchObject({ database: kind });

    const home = await fetch(`${current.origin}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toMatch(/<nav[\s\S]*Log in[\s\S]*Register[\s\S]*<\/nav>/);
    expect(await (await fetch(`${current.origin}/healthz`)).text()).toBe('ok');
    expect((await fetch(`${current.origin}/readyz`)).status).toBe(200);
    expect((await fetch(`${current.origin}/static/css/site.css`)).status).toBe(200);

    const browser = new Browser(current.origin);
    const res = await browser.submit('/register', '/register', { username, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD });
    expect(res.status).toBe(303);
    expect(browser.cookie).toBeDefined();
    const signedIn = await (await browser.get('/')).text();
    expect(signedIn).toContain(`Welcome, ${username}!`);
    sessionCookie = browser.cookie;

    // One JSON log line per request (written when the response has gone, so not always yet for the last one).
    const requests = logLines(current.process.stdout).filter((l) => l.msg === 'request completed');
    expect(requests).toContainEqual(expect.objectContaining({ req: expect.objectContaining({ method: 'POST', url: '/register' }), res: { status: 303 } }));
  }, STEP_MS);

  // Two processes writing PGlite's files would corrupt them (`npm start` in a second terminal).
  it.runIf(kind === 'embedded')('refuses a second process on the same data folder, and the first keeps serving', async () => {
    const second = await runScript(SERVER, { PORT: '0', BCRYPT_COST: '4', LOG_LEVEL: 'info', ...env });
    expect(second.code, `signal ${second.signal}, stderr: ${second.stderr}`).toBe(1);
    expect(second.stderr).toContain(`Could not start: Another process is using the embedded database in ${dataDir}.`);
    expect(second.stdout).not.toContain('listening on');
    expect((await fetch(`${current!.origin}/readyz`)).status).toBe(200);
  }, STEP_MS);

  it('stops cleanly on SIGTERM: exit code 0 within seconds, and says so', async () => {
    expect(current).toBeDefined();
    const { code, ms, stdout } = await stop(current!, 'SIGTERM');
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
    const messages = logLines(stdout).map((l) => l.msg);
    expect(messages).toContain('shutting down');
    expect(messages.at(-1)).toBe('stopped');
  }, STEP_MS);

  it('starts again on the same data: the old session cookie still works and the user can log in', async () => {
    expect(sessionCookie).toBeDefined();
    current = await startServer(env);
    // No migration to apply the second time.
    expect(logLines(current.process.stdout).map((l) => l.msg)).not.toContain('database migrated');

    // The session row and the secret that signed its cookie both survived the restart.
    const returning = new Browser(current.origin);
    returning.cookie = sessionCookie;
    const account = await returning.get('/account');
    expect(account.status).toBe(200);
    expect(await account.text()).toContain(`Signed in as <strong>${username}</strong>`);

    const browser = new Browser(current.origin);
    const login = await browser.submit('/login', '/login', { username, password: GOOD_PASSWORD });
    expect(login.status).toBe(303);
    expect((await browser.get('/account')).status).toBe(200);

    const { code, stdout } = await stop(current, 'SIGINT');
    expect(code).toBe(0);
    expect(logLines(stdout).at(-1)?.msg).toBe('stopped');
  }, STEP_MS);
});

describe('npm start with a bad configuration', () => {
  it('exits with code 1 and names the variable', async () => {
    const bad = await runScript(SERVER, { PORT: 'abc', BCRYPT_COST: '3', DATA_DIR: path.join(tmpdir(), 'ttt-never-created') });
    expect(bad.code, `signal ${bad.signal}, stderr: ${bad.stderr}`).toBe(1);
    expect(bad.stderr).toContain('Invalid configuration:');
    expect(bad.stderr).toContain('PORT: must be a whole number from 0 to 65535');
    expect(bad.stderr).toContain('BCRYPT_COST: must be a whole number from 4 to 15');
    expect(bad.stdout).toBe('');
  }, STEP_MS);

  it('refuses to start in production without SESSION_SECRET', async () => {
    const bad = await runScript(SERVER, { NODE_ENV: 'production', DATA_DIR: path.join(tmpdir(), 'ttt-never-created') });
    expect(bad.code, `signal ${bad.signal}, stderr: ${bad.stderr}`).toBe(1);
    expect(bad.stderr).toContain('SESSION_SECRET: required when NODE_ENV=production');
  }, STEP_MS);
});
