/**
 * Real Chrome or Chromium for the browser tests, driven by playwright-core. One browser per test
 * file, one context per person, and helpers that act the way a person does: by the accessible
 * names of docs UI-CONTRACT.md, never by internal ids.
 *
 * Which browser: see `findBrowser` (CHROME_PATH, then the usual install locations, then
 * Playwright's own browser cache, then Playwright's download of its Chromium). CI uses Debian's
 * /usr/bin/chromium.
 *
 * The client script must be built (`npm run build:client`; `npm test` does it first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { GOOD_PASSWORD, uniqueName } from './app.js';
import { WINNING_LINES } from './consistency.js';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SCREENSHOT_DIR = `${ROOT}test-results/screenshots`;

/** How long a live update may take to reach another person's screen. */
export const LIVE_MS = 2_000;
/** How long a page load or a form post may take. */
export const PAGE_MS = 10_000;

/** A game page's path: /games/ and the 12-character id. */
export const GAME_PATH = /^\/games\/[A-Za-z0-9]{12}$/;

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Variables that name a browser executable, first match wins (CHROME_PATH as Lighthouse and Karma read it). */
const BROWSER_VARIABLES = ['CHROME_PATH', 'CHROMIUM_PATH', 'PUPPETEER_EXECUTABLE_PATH'];

/** Where Chrome and Chromium usually are, per platform; Debian's /usr/bin/chromium first. */
function usualLocations(): string[] {
  if (process.platform === 'darwin') {
    const apps = ['Google Chrome.app/Contents/MacOS/Google Chrome', 'Chromium.app/Contents/MacOS/Chromium', 'Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing'];
    return ['/Applications', path.join(homedir(), 'Applications')].flatMap((dir) => apps.map((app) => path.join(dir, app)));
  }
  if (process.platform === 'win32') {
    const roots = [process.env.PROGRAMFILES, process.env['PROGRAMFILES(X86)'], process.env.LOCALAPPDATA].filter((dir): dir is string => Boolean(dir));
    return roots.flatMap((dir) => [path.join(dir, 'Google/Chrome/Application/chrome.exe'), path.join(dir, 'Chromium/Application/chrome.exe')]);
  }
  return [
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
    '/opt/google/chrome/chrome',
    '/snap/bin/chromium',
    '/var/lib/flatpak/exports/bin/org.chromium.Chromium',
  ];
}

/** Playwright's browser cache: its own Chromium for this playwright-core first, then any other it holds, newest first. */
function playwrightCache(): string[] {
  const own = chromium.executablePath();
  const cache =
    process.env.PLAYWRIGHT_BROWSERS_PATH && process.env.PLAYWRIGHT_BROWSERS_PATH !== '0'
      ? process.env.PLAYWRIGHT_BROWSERS_PATH
      : process.platform === 'darwin'
        ? path.join(homedir(), 'Library/Caches/ms-playwright')
        : process.platform === 'win32'
          ? path.join(process.env.LOCALAPPDATA ?? homedir(), 'ms-playwright')
          : path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'ms-playwright');
  let others: string[] = [];
  try {
    const ownRelative = path.relative(path.dirname(path.dirname(own)), own); // e.g. chrome-linux64/chrome
    others = readdirSync(cache)
      .filter((name) => /^chromium-\d+$/.test(name))
      .sort((a, b) => Number(b.split('-')[1]) - Number(a.split('-')[1]))
      .map((name) => path.join(cache, name, ownRelative));
  } catch {
    // no cache yet
  }
  return [own, ...others];
}

/** Set by a download that failed, so that the other test files' processes do not try again at once. */
const DOWNLOAD_FAILED = path.join(tmpdir(), 'ttt-playwright-chromium-download-failed');

/** Playwright's own download of its Chromium, as `npx playwright install chromium` does; false when it cannot be fetched. */
function downloadPlaywrightChromium(): boolean {
  try {
    if (Date.now() - statSync(DOWNLOAD_FAILED).mtimeMs < 10 * 60_000) return false;
  } catch {
    // no recent failure
  }
  const cli = createRequire(import.meta.url).resolve('playwright-core/cli');
  console.info('No Chrome or Chromium found: downloading Playwright\'s Chromium once (playwright-core install chromium)…');
  const result = spawnSync(process.execPath, [cli, 'install', '--no-shell', 'chromium'], { stdio: 'inherit', timeout: 10 * 60_000 });
  const ok = result.status === 0 && existsSync(chromium.executablePath());
  if (ok) rmSync(DOWNLOAD_FAILED, { force: true });
  else writeFileSync(DOWNLOAD_FAILED, new Date().toISOString());
  return ok;
}

let found: string | undefined;

/**
 * The browser the tests drive: the first of a variable that names one (CHROME_PATH, CHROMIUM_PATH,
 * PUPPETEER_EXECUTABLE_PATH), the usual Chrome and Chromium install locations, and Playwright's
 * browser cache; when none is there, Playwright's Chromium is downloaded once. Only when that
 * fails too does it stop, with one line saying what to install.
 */
export function findBrowser(): string {
  if (found) return found;
  for (const name of BROWSER_VARIABLES) {
    const value = process.env[name];
    if (!value) continue;
    if (!existsSync(value)) throw new Error(`${name}=${value}: no such file; point it at a Chrome or Chromium executable, or unset it.`);
    return (found = value);
  }
  found = [...usualLocations(), ...playwrightCache()].find((candidate) => existsSync(candidate));
  if (found) return found;
  if (downloadPlaywrightChromium()) return (found = chromium.executablePath());
  throw new Error(
    'No Chrome or Chromium for the browser tests: install one (Debian/Ubuntu: apt install chromium; or Google Chrome), or set CHROME_PATH to its executable.',
  );
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(`${ROOT}public/js/game.js`)) {
    throw new Error('The client script is not built: run `npm run build:client` first (npm test does).');
  }
  return chromium.launch({ executablePath: findBrowser(), args: CHROMIUM_ARGS, headless: true });
}

export interface Person {
  context: BrowserContext;
  page: Page;
  /** Set once registered. */
  username: string;
  /** Main-frame navigations of `page` since the person arrived (loads, reloads, form posts). */
  navigations(): number;
  /** Browser-side errors (uncaught exceptions, console errors) seen on `page`. */
  errors: string[];
}

/** A new person: a fresh browser context (own cookies) with one page on the site. */
export async function newPerson(
  browser: Browser,
  baseURL: string,
  options: { javaScriptEnabled?: boolean; viewport?: { width: number; height: number } } = {},
): Promise<Person> {
  const context = await browser.newContext({
    baseURL,
    viewport: options.viewport ?? DESKTOP,
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    locale: 'en-GB',
  });
  context.setDefaultTimeout(PAGE_MS);
  const page = await context.newPage();
  let navigations = 0;
  const errors: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations += 1;
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  return { context, page, username: '', navigations: () => navigations, errors };
}

/** Registers with the login page's "Create account" button and lands in the lobby. */
export async function register(person: Person, username = uniqueName('e2e')): Promise<string> {
  const { page } = person;
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
  await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.getByRole('button', { name: 'Create account' }).click()]);
  try {
    await page.getByRole('button', { name: 'Play the computer' }).waitFor();
  } catch (err) {
    const main = await page.getByRole('main').innerText().catch(() => '(no main)');
    throw new Error(`after "Create account" for ${username}, no lobby at ${page.url()}; the page says:\n${main}`, { cause: err });
  }
  person.username = username;
  return username;
}

export type NewGameButton = 'Play the computer' | 'Invite a friend' | 'Create open game';

/** From the lobby: choose Difficulty and Play as, press one of the three buttons, land on the game. */
export async function startGame(
  page: Page,
  button: NewGameButton,
  choices: { difficulty?: 'Easy' | 'Medium' | 'Perfect'; playAs?: 'X' | 'O' | 'Random' } = {},
): Promise<string> {
  if (new URL(page.url()).pathname !== '/') await page.goto('/');
  if (choices.difficulty) await page.getByLabel('Difficulty').selectOption({ label: choices.difficulty });
  if (choices.playAs) await page.getByLabel('Play as').selectOption({ label: choices.playAs });
  await Promise.all([page.waitForURL((url) => GAME_PATH.test(url.pathname)), page.getByRole('button', { name: button, exact: true }).click()]);
  await board(page).waitFor();
  return page.url();
}

/**
 * Waits until the page shows a game other than `previousUrl` (after a rematch, the script moves
 * both players). Polls the URL rather than waiting for one navigation, since a superseded
 * navigation is aborted and would fail Playwright's waitForURL.
 */
export async function waitForOtherGame(page: Page, previousUrl: string, timeout = PAGE_MS): Promise<string> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const url = new URL(page.url());
    if (url.href !== previousUrl && GAME_PATH.test(url.pathname)) {
      try {
        await page.waitForLoadState('load', { timeout: Math.max(1, deadline - Date.now()) });
        await board(page).waitFor({ timeout: Math.max(1, deadline - Date.now()) });
        if (page.url() === url.href) return url.href;
      } catch (err) {
        if (Date.now() >= deadline) throw err;
      }
    }
    if (Date.now() >= deadline) throw new Error(`still on ${page.url()} after ${timeout} ms, expected another game than ${previousUrl}`);
    await page.waitForTimeout(25);
  }
}

export function board(page: Page): Locator {
  return page.getByRole('grid', { name: 'Board' });
}

/** The button of one cell, 0..8 row by row from the top left. */
export function cell(page: Page, index: number): Locator {
  return board(page).getByRole('gridcell').locator(`button[data-cell="${index}"]`);
}

/**
 * A cell the viewer can play now. The page without script renders the others `disabled`; the
 * script makes them aria-disabled instead, so keyboard users can still move onto them.
 */
export const PLAYABLE_CELL = 'button[data-cell]:not([disabled]):not([aria-disabled="true"])';
export const UNPLAYABLE_CELL = 'button[data-cell]:is([disabled], [aria-disabled="true"])';

/** The cells (0..8) the viewer can play now. */
export async function playableCells(page: Page): Promise<number[]> {
  return board(page)
    .locator(PLAYABLE_CELL)
    .evaluateAll((buttons) => buttons.map((b) => Number((b as HTMLElement).dataset.cell)));
}

/** The cells (0..8) the viewer cannot play now. */
export async function unplayableCells(page: Page): Promise<number[]> {
  return board(page)
    .locator(UNPLAYABLE_CELL)
    .evaluateAll((buttons) => buttons.map((b) => Number((b as HTMLElement).dataset.cell)));
}

export function statusElement(page: Page): Locator {
  return page.locator('[data-status]');
}

export async function readStatus(page: Page): Promise<{ status: string; text: string }> {
  const el = statusElement(page);
  return { status: (await el.getAttribute('data-status')) ?? '', text: ((await el.textContent()) ?? '').trim() };
}

/** Waits until the status is one of `statuses`; returns the one reached. */
export async function waitForStatus(page: Page, statuses: string | string[], timeout = PAGE_MS): Promise<{ status: string; text: string }> {
  const list = Array.isArray(statuses) ? statuses : [statuses];
  await page.locator(list.map((s) => `[data-status="${s}"]`).join(', ')).waitFor({ timeout });
  return readStatus(page);
}

/** The nine marks as shown: 'X', 'O' or ''. */
export async function readBoard(page: Page): Promise<string[]> {
  return board(page)
    .locator('button[data-cell]')
    .evaluateAll((buttons) => buttons.map((b) => (b.textContent ?? '').trim()));
}

/** Waits until `mark` shows in cell `index` (and its accessible name says so). */
export async function waitForMark(page: Page, index: number, mark: 'X' | 'O', timeout = LIVE_MS): Promise<void> {
  await cell(page, index).and(page.locator(`[aria-label$=", ${mark}"]`)).filter({ hasText: mark }).waitFor({ timeout });
}

/** Waits for the page's WebSocket to be up (the connection indicator says "Live"). */
export async function waitForLive(page: Page, timeout = PAGE_MS): Promise<void> {
  await page.locator('#connection[data-state="live"]').waitFor({ state: 'attached', timeout });
}

/**
 * Puts a marker on the page's window; `hasMarker` is true only if the same document is still
 * there, so any reload or navigation in between makes it false.
 */
export async function setMarker(page: Page, value: string): Promise<void> {
  await page.evaluate((v) => {
    (window as unknown as { __e2eMarker?: string }).__e2eMarker = v;
  }, value);
}

export async function hasMarker(page: Page, value: string): Promise<boolean> {
  return page.evaluate((v) => (window as unknown as { __e2eMarker?: string }).__e2eMarker === v, value);
}

/** Full-page screenshots at desktop and phone sizes into test-results/screenshots/<name>-<size>.png. */
export async function screenshots(page: Page, name: string): Promise<string[]> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const original = page.viewportSize() ?? DESKTOP;
  const paths: string[] = [];
  for (const [size, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    await page.setViewportSize(viewport);
    const path = `${SCREENSHOT_DIR}/${name}-${size}.png`;
    await page.screenshot({ path, fullPage: true, animations: 'disabled' });
    paths.push(path);
  }
  await page.setViewportSize(original);
  return paths;
}

/** Closes every context; the browser itself is closed by the file's afterAll. */
export async function closeAll(people: Person[]): Promise<void> {
  await Promise.all(people.map((p) => p.context.close().catch(() => {})));
  people.length = 0;
}

/** Small minimax for the browser player: the best cell for `me` on this board (ties: lowest cell). */
export function bestMove(boardMarks: readonly string[], me: 'X' | 'O'): number {
  const other = (m: string) => (m === 'X' ? 'O' : 'X');
  const winnerOf = (b: string[]) => WINNING_LINES.find(([a, c, d]) => b[a!] && b[a!] === b[c!] && b[a!] === b[d!])?.map((i) => b[i])[0];
  // Score from `me`'s point of view: +10 - depth for a win, depth - 10 for a loss, 0 for a draw.
  const score = (b: string[], toMove: string, depth: number): number => {
    const w = winnerOf(b);
    if (w) return w === me ? 10 - depth : depth - 10;
    if (b.every((m) => m)) return 0;
    const results: number[] = [];
    for (let i = 0; i < 9; i++) {
      if (b[i]) continue;
      b[i] = toMove;
      results.push(score(b, other(toMove), depth + 1));
      b[i] = '';
    }
    return toMove === me ? Math.max(...results) : Math.min(...results);
  };
  const b = [...boardMarks];
  let best = -1;
  let bestScore = -Infinity;
  for (let i = 0; i < 9; i++) {
    if (b[i]) continue;
    b[i] = me;
    const s = score(b, other(me), 1);
    b[i] = '';
    if (s > bestScore) {
      bestScore = s;
      best = i;
    }
  }
  return best;
}
