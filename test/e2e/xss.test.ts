/**
 * XSS in real Chromium. The CSP stops inline script: a script element injected into a game page
 * (with inline text) does not run, nor does an inline event handler, while the page's own script
 * does. And nothing a visitor can put into an address or a form comes back as markup: 404 pages
 * with markup in the path, `?next=` with HTML, the admin search box, the register form: no
 * injected element appears, no CSP violation is reported, and the text is shown as typed.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { closeAll, launchBrowser, newPerson, register, startGame, waitForLive, type Person } from '../helpers/browser.js';

declare global {
  interface Window {
    __violations?: string[];
    __xss?: number;
  }
}

describe('XSS in the browser', () => {
  let t: TestApp;
  let browser: Browser;
  const people: Person[] = [];

  beforeAll(async () => {
    t = await startTestApp('embedded', { listen: true });
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await closeAll(people);
    await browser?.close();
    await t?.close();
  });

  /** A person whose pages record every CSP violation (the site itself must cause none). */
  async function person() {
    const p = await newPerson(browser, t.url);
    await p.context.addInitScript(() => {
      window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__violations!.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    people.push(p);
    return p;
  }

  /** Elements or attributes that only injected markup could have put on the page. */
  async function injected(page: Page) {
    return page.evaluate(() => {
      const found: string[] = [];
      for (const el of Array.from(document.querySelectorAll('*'))) {
        for (const name of el.getAttributeNames()) if (name.toLowerCase().startsWith('on')) found.push(`${el.tagName} ${name}`);
        if (el.tagName === 'SCRIPT' && !el.hasAttribute('src')) found.push('inline SCRIPT');
        if (el.id === 'pwned') found.push(`${el.tagName}#pwned`);
      }
      return { found, violations: window.__violations ?? [], xss: window.__xss };
    });
  }

  it('blocks an injected inline script and inline handlers on a game page, and runs the page\'s own script', { timeout: 60_000 }, async () => {
    const p = await person();
    await register(p);
    await startGame(p.page, 'Play the computer', { difficulty: 'Easy', playAs: 'X' });
    // The page's own script (from 'self') runs: the live connection comes up.
    await waitForLive(p.page);
    expect((await injected(p.page)).violations).toEqual([]);

    await p.page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__xss = 1';
      document.body.appendChild(script);
      const holder = document.createElement('div');
      holder.innerHTML = '<img src="data:," onload="window.__xss = 2" onerror="window.__xss = 3"><button onclick="window.__xss = 4" id="bait">x</button>';
      document.body.appendChild(holder);
    });
    await p.page.locator('#bait').click();
    await p.page.waitForTimeout(200);
    const after = await injected(p.page);
    expect(after.xss).toBeUndefined();
    // Chromium reports each blocked one: the inline script and the inline handlers.
    expect(after.violations.some((v) => v.startsWith('script-src-elem inline'))).toBe(true);
    expect(after.violations.some((v) => v.startsWith('script-src-attr inline'))).toBe(true);
  });

  const PAYLOADS = {
    script: '<script id="pwned">window.__xss=1</script>',
    img: '"><img id=pwned src=x onerror=window.__xss=1>',
    svg: "'><svg id=pwned onload=window.__xss=1>",
  };

  it('echoes nothing raw from the address: 404 pages, ?next=, replay and home parameters', { timeout: 60_000 }, async () => {
    const p = await person();
    const visits: [string, (page: Page) => Promise<void>][] = [
      [`/no/such/${encodeURIComponent(PAYLOADS.script)}`, async () => {}],
      [`/games/${encodeURIComponent(PAYLOADS.img)}`, async () => {}],
      [`/users/${encodeURIComponent(PAYLOADS.svg)}`, async () => {}],
      [`/${encodeURIComponent(PAYLOADS.img)}?x=${encodeURIComponent(PAYLOADS.script)}`, async () => {}],
      [`/?logged_out=${encodeURIComponent(PAYLOADS.script)}`, async () => {}],
      [
        `/login?next=${encodeURIComponent(`/${PAYLOADS.img}`)}`,
        async (page) => {
          // A local path, so it is kept, but as the value of the hidden field, not as markup.
          expect(await page.locator('input[name="next"]').first().inputValue()).toBe(`/${PAYLOADS.img}`);
        },
      ],
      [
        `/register?next=${encodeURIComponent(`/${PAYLOADS.svg}`)}`,
        async (page) => {
          expect(await page.locator('input[name="next"]').first().inputValue()).toBe(`/${PAYLOADS.svg}`);
        },
      ],
    ];
    for (const [path, check] of visits) {
      const response = await p.page.goto(path);
      expect(response, path).not.toBeNull();
      expect(response!.status(), path).toBeLessThan(500);
      const body = await response!.text();
      for (const payload of Object.values(PAYLOADS)) expect(body, path).not.toContain(payload.replace(/^['"]>/, ''));
      expect(await injected(p.page), path).toEqual({ found: [], violations: [], xss: undefined });
      await check(p.page);
    }
  });

  it('shows the admin search and a refused registration as typed, never as markup', { timeout: 60_000 }, async () => {
    const admin = await person();
    const name = await register(admin);
    await t.db.pool.query('UPDATE users SET is_admin = true WHERE username = $1', [name]);
    for (const q of ['<img id=pwned src=x onerror=alert(1)>', '"><svg id=pwned onload=alert(1)>', "'</caption><b id=pwned>"]) {
      await admin.page.goto(`/admin/users?q=${encodeURIComponent(q)}`);
      expect(await admin.page.getByLabel(/search/i).or(admin.page.locator('#user-search')).first().inputValue()).toBe(q);
      expect(await admin.page.locator('caption').textContent()).toContain(q);
      expect(await injected(admin.page), q).toEqual({ found: [], violations: [], xss: undefined });
    }

    // The register form keeps what was typed in the field, escaped, with the reason it was refused.
    const visitor = await person();
    await visitor.page.goto('/register');
    const typed = '"><img id=pwned src=x onerror=window.__xss=1>';
    await visitor.page.getByLabel('Username').fill(typed);
    await visitor.page.getByLabel('Password', { exact: true }).fill('correct horse battery');
    await visitor.page.getByLabel('Confirm password').fill('correct horse battery');
    await Promise.all([visitor.page.waitForLoadState('load'), visitor.page.getByRole('button', { name: 'Create account' }).click()]);
    await visitor.page.getByRole('alert').first().waitFor();
    expect(await visitor.page.getByLabel('Username').inputValue()).toBe(typed);
    expect(await injected(visitor.page)).toEqual({ found: [], violations: [], xss: undefined });
  });
});
