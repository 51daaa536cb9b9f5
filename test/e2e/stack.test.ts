/**
 * The production topology in real Chromium: the repo's nginx.conf in front of two app instances on
 * the real PostgreSQL (the stack script). Accounts, a live game across both instances, static files
 * from nginx, a forged cross-site POST, and the loss of an instance in the middle of a game.
 */
import { createServer, type Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startStack, type Stack } from '../../src/ops/stack.js';
import { createServerDatabase, databaseKinds } from '../helpers/database.js';
import { cell, closeAll, launchBrowser, LIVE_MS, newPerson, register, startGame, waitForLive, waitForMark, waitForStatus, type Person } from '../helpers/browser.js';
import { GOOD_PASSWORD } from '../helpers/app.js';
import { spawnSync } from 'node:child_process';

const hasNginx = spawnSync('sh', ['-c', 'command -v nginx']).status === 0;

describe.skipIf(!hasNginx).each(databaseKinds)('the full stack: nginx, two app instances, %s PostgreSQL', (kind) => {
  let browser: Browser;
  let database: Awaited<ReturnType<typeof createServerDatabase>>;
  let stack: Stack;
  const output: string[][] = [[], []];
  const people: Person[] = [];

  beforeAll(async () => {
    database = await createServerDatabase(kind);
    const port = await freePort();
    stack = await startStack({
      databaseUrl: database.url,
      instances: 2,
      port,
      appCommand: [process.execPath, '--import', 'tsx', 'src/server.ts'],
      env: {
        NODE_ENV: 'production',
        SESSION_SECRET: 'a-secret-shared-by-both-instances-0123456789',
        PUBLIC_ORIGIN: `http://127.0.0.1:${port}`,
        BCRYPT_COST: '4',
        LOG_LEVEL: 'info',
      },
      onOutput: (instance, chunk) => output[instance]!.push(chunk),
    });
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await closeAll(people);
    await browser?.close();
    await stack?.stop();
    await database?.drop();
  });

  const person = async () => {
    const p = await newPerson(browser, stack.url);
    people.push(p);
    return p;
  };

  /** Which instance (0 or 1) holds the live socket of a user, from the instances' own logs. */
  /** The instance that most recently opened a live socket for this user (the lobby page it left may have used the other one). */
  async function instanceOfSocket(userId: number): Promise<number> {
    const pattern = new RegExp(`^.*"user":${userId},.*"msg":"live socket opened".*$`, 'gm');
    for (let i = 0; i < 50; i++) {
      const latest = output.map((chunks) =>
        Math.max(-1, ...[...chunks.join('').matchAll(pattern)].map((m) => Number(/"time":(\d+)/.exec(m[0])?.[1] ?? 0))),
      );
      const newest = Math.max(...latest);
      if (newest >= 0) return latest.indexOf(newest);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no instance logged a socket for user ${userId}`);
  }

  async function userId(username: string): Promise<number> {
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: database.url });
    await client.connect();
    const { rows } = await client.query<{ id: number }>('SELECT id FROM users WHERE username = $1', [username]);
    await client.end();
    return rows[0]!.id;
  }

  it('registers on the login form, logs out from the nav, and logs back in', async () => {
    const a = await person();
    const name = await register(a);
    await a.page.getByRole('navigation').getByRole('button', { name: 'Log out' }).click();
    await expect.poll(() => a.page.getByRole('status').first().textContent()).toContain('You have been logged out');
    expect(await a.page.getByRole('navigation').getByRole('link', { name: 'Log in' }).isVisible()).toBe(true);
    await a.page.getByRole('navigation').getByRole('link', { name: 'Log in' }).click();
    await a.page.getByLabel('Username').fill(name);
    await a.page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await Promise.all([a.page.waitForURL((url) => url.pathname === '/'), a.page.getByRole('button', { name: 'Log in' }).click()]);
    expect(await a.page.getByRole('navigation').getByRole('link', { name })).toBeTruthy();
    expect(await a.page.getByRole('button', { name: 'Play the computer' }).isVisible()).toBe(true);
  });

  it('serves static files from nginx, gzipped and cached for a year', async () => {
    const page = await fetch(`${stack.url}/login`);
    const css = /href="(\/static\/css\/site\.css\?v=[0-9a-f]+)"/.exec(await page.text())![1]!;
    const res = await fetch(stack.url + css, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('content-encoding')).toBe('gzip');
    // nginx logged it with no upstream: no app instance was asked.
    expect(stack.accessLog()).toMatch(new RegExp(`"GET ${css.replace(/[?.]/g, '\\$&')} HTTP/1.1" 200 \\d+ [\\d.]+ upstream=-`));
  });

  it('refuses a POST forged by another site', async () => {
    const victim = await person();
    await register(victim);
    // A page on another origin that posts a form to the site, as a malicious page would.
    const evil: Server = createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(`<form method="post" action="${stack.url}/logout"><button>Win a prize</button></form>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const evilUrl = `http://localhost:${(evil.address() as { port: number }).port}/`;
    const page = await victim.context.newPage();
    await page.goto(evilUrl);
    const [response] = await Promise.all([page.waitForResponse((r) => r.url() === `${stack.url}/logout`), page.getByRole('button').click()]);
    expect(response.status()).toBe(403);
    await page.close();
    evil.close();
    // Still signed in.
    await victim.page.goto('/account');
    expect(new URL(victim.page.url()).pathname).toBe('/account');
  });

  it('plays a live game across both instances, and survives the loss of one of them', async () => {
    const [a, b] = await Promise.all([person(), person()]);
    await Promise.all([register(a), register(b)]);
    const gameUrl = await startGame(a.page, 'Invite a friend', { playAs: 'X' });
    await b.page.goto(gameUrl);
    await Promise.all([b.page.waitForURL(gameUrl), b.page.getByRole('button', { name: 'Join game' }).click()]);
    // A signed-out visitor watches through nginx too.
    const visitor = await person();
    await visitor.page.goto(gameUrl);
    await Promise.all([waitForLive(a.page), waitForLive(b.page), waitForLive(visitor.page)]);
    await waitForStatus(a.page, 'your-turn', LIVE_MS);

    // X 4, O 0, X 2: then an instance dies.
    const moves: [number, 'X' | 'O', Person, Person][] = [
      [4, 'X', a, b],
      [0, 'O', b, a],
      [2, 'X', a, b],
    ];
    for (const [index, mark, mover, other] of moves) {
      await waitForStatus(mover.page, 'your-turn', LIVE_MS);
      await cell(mover.page, index).click();
      await waitForMark(other.page, index, mark, LIVE_MS);
      await waitForMark(visitor.page, index, mark, LIVE_MS);
    }

    // Both instances served this session's requests: nginx spread them.
    const upstreams = new Set([...stack.accessLog().matchAll(/upstream=127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])));
    expect(upstreams).toEqual(new Set(stack.instances.map((i) => i.port)));

    // Kill (SIGKILL, no goodbye) the instance that holds O's socket.
    const victimIndex = await instanceOfSocket(await userId(b.username));
    const killedAt = Date.now();
    stack.instances[victimIndex]!.process.kill('SIGKILL');
    await b.page.locator('#connection[data-state="down"]').waitFor({ state: 'attached', timeout: 5_000 });
    await b.page.locator('#connection[data-state="live"]').waitFor({ state: 'attached', timeout: 10_000 });
    const reconnectMs = Date.now() - killedAt;
    console.info(`instance killed: O's page was live again through nginx after ${reconnectMs} ms`);
    expect(reconnectMs).toBeLessThan(10_000);

    // The game goes on from the same position: O blocks at 6, X wins along the right column? X 8 then X 5.
    await waitForStatus(b.page, 'your-turn', LIVE_MS);
    await cell(b.page, 6).click();
    await waitForMark(a.page, 6, 'O', 5_000);
    await waitForStatus(a.page, 'your-turn', LIVE_MS);
    await cell(a.page, 8).click();
    await waitForMark(b.page, 8, 'X', LIVE_MS);
    await cell(b.page, 3).click();
    await waitForMark(a.page, 3, 'O', LIVE_MS);
    // O now has 0, 3, 6: the left column.
    expect(await waitForStatus(b.page, 'won', LIVE_MS)).toMatchObject({ status: 'won' });
    expect(await waitForStatus(a.page, 'lost', LIVE_MS)).toMatchObject({ status: 'lost', text: 'You lost' });
    // The visitor followed it all live, across the loss of an instance.
    expect(await waitForStatus(visitor.page, 'o-won', 10_000)).toMatchObject({ status: 'o-won' });

    // Nothing lost: a fresh load shows all six moves in order.
    await a.page.reload();
    const moves2 = (await a.page.getByRole('list', { name: 'Moves' }).getByRole('listitem').allTextContents()).map(
      (text) => text.split(' — ')[0],
    );
    expect(moves2).toEqual([
      'X: row 2, column 2',
      'O: row 1, column 1',
      'X: row 1, column 3',
      'O: row 3, column 1',
      'X: row 3, column 3',
      'O: row 2, column 1',
    ]);
  });
});
