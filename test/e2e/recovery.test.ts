/**
 * A forgotten password, in real Chromium through a real SMTP server: register with an address and
 * confirm it; in another browser, follow a game live; from a third, "Forgot your password?" → the
 * mail → set a new password. The old password is refused, and the other browser's session and
 * its live socket have ended.
 */
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GOOD_PASSWORD, startTestApp, uniqueName, type TestApp } from '../helpers/app.js';
import { closeAll, launchBrowser, LIVE_MS, newPerson, startGame, waitForLive, type Person } from '../helpers/browser.js';
import { freePort } from '../../src/net.js';
import { startSmtp, type TestSmtp } from '../helpers/smtp.js';

const NEW_PASSWORD = 'a brand new passphrase';

describe('a forgotten password in the browser', () => {
  let browser: Browser;
  let app: TestApp;
  let smtp: TestSmtp;
  const people: Person[] = [];
  const person = async () => {
    const p = await newPerson(browser, app.url);
    people.push(p);
    return p;
  };

  beforeAll(async () => {
    smtp = await startSmtp();
    // Mail that really leaves links to PUBLIC_ORIGIN only, so the app listens where that says.
    const port = await freePort();
    [browser, app] = await Promise.all([
      launchBrowser(),
      startTestApp('embedded', { listen: true, port, env: { SMTP_URL: smtp.url, PUBLIC_ORIGIN: `http://127.0.0.1:${port}` } }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await smtp?.close();
  });
  afterEach(async () => {
    await closeAll(people);
  });

  it('forgot → mail → set password → old password refused → the other browser is signed out, live socket too', async () => {
    const username = uniqueName('Forgetful');
    const email = `${username.toLowerCase()}@example.test`;

    // Register with an address on the register page, and confirm it from the mail.
    const owner = await person();
    await owner.page.goto('/register');
    await owner.page.getByLabel('Username').fill(username);
    await owner.page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await owner.page.getByLabel('Confirm password').fill(GOOD_PASSWORD);
    await owner.page.getByLabel('Email (optional)').fill(email);
    await Promise.all([owner.page.waitForURL((url) => url.pathname === '/'), owner.page.getByRole('button', { name: 'Create account' }).click()]);
    await owner.page.getByText(`We have sent a link to ${email} to confirm it.`).waitFor();
    await owner.page.goto((await smtp.next(email)).link!);
    await owner.page.getByRole('button', { name: 'Confirm email address' }).click();
    await owner.page.getByText('Your email address is confirmed.').waitFor();

    // Another browser of the same account follows its game live.
    const other = await person();
    await other.page.goto('/login');
    await other.page.getByLabel('Username').fill(username);
    await other.page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await Promise.all([other.page.waitForURL((url) => url.pathname === '/'), other.page.getByRole('button', { name: 'Log in' }).click()]);
    await startGame(other.page, 'Play the computer', { difficulty: 'Perfect', playAs: 'X' });
    await waitForLive(other.page);

    // Someone who forgot the password asks for a link.
    const forgetful = await person();
    await forgetful.page.goto('/login');
    await Promise.all([forgetful.page.waitForURL('**/forgot'), forgetful.page.getByRole('link', { name: 'Forgot your password?' }).click()]);
    await forgetful.page.getByLabel('Username or email').fill(email.toUpperCase());
    await forgetful.page.getByRole('button', { name: 'Send reset link' }).click();
    await forgetful.page.getByRole('status').getByText('If an account matches, we have sent a link').waitFor();

    const mail = await smtp.next(email);
    await forgetful.page.goto(mail.link!);
    // The token is gone from the address bar (and so from history and Referer headers).
    expect(new URL(forgetful.page.url()).pathname).toBe('/reset');
    await forgetful.page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await forgetful.page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
    await Promise.all([forgetful.page.waitForURL((url) => url.pathname === '/'), forgetful.page.getByRole('button', { name: 'Set password' }).click()]);
    await forgetful.page.getByText('Your new password is set, and you are signed in.').waitFor();

    // The other browser: its socket was closed as signed out, and its session is gone.
    await other.page.locator('#connection[data-state="down"]', { hasText: 'Signed out' }).waitFor({ timeout: LIVE_MS * 2 });
    await other.page.goto('/account');
    expect(new URL(other.page.url()).pathname).toBe('/login');
    await owner.page.goto('/account');
    expect(new URL(owner.page.url()).pathname).toBe('/login');

    // The old password is refused, the new one works.
    await owner.page.getByLabel('Username').fill(username);
    await owner.page.getByLabel('Password', { exact: true }).fill(GOOD_PASSWORD);
    await owner.page.getByRole('button', { name: 'Log in' }).click();
    await owner.page.getByText('Invalid username or password').waitFor();
    await owner.page.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
    await Promise.all([owner.page.waitForURL((url) => url.pathname === '/account'), owner.page.getByRole('button', { name: 'Log in' }).click()]);

    // The link works once.
    await owner.page.goto(mail.link!);
    await owner.page.getByText('This link has expired or has already been used.').waitFor();
    // The signed-out page's one retry is refused (401), as it should be; nothing else went wrong.
    for (const p of [owner, other, forgetful]) expect(p.errors.filter((e) => !/status of 40[01]|HTTP Authentication failed/.test(e))).toEqual([]);
  });
});
