/**
 * Device cookies (OWASP's answer to lockout abuse): a browser in which someone has logged in to an
 * account keeps a signed token tied to that account. Failed logins from such a browser count
 * against the token, not against the account, so a stranger who locks an account by guessing its
 * password from elsewhere does not lock out its owner on their own devices.
 *
 * The token is `<random id>.<HMAC(id, lowercased username)>`: it does not reveal the username, and
 * it proves nothing for any other account.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { parseCookie } from 'cookie';

const DEVICE_COOKIE = 'ttt.device';
const ONE_YEAR_MS = 365 * 24 * 60 * 60 * 1000;

export interface DeviceCookies {
  /** The id of the request's device token when it was issued for this username, else null. */
  trustedFor(req: Request, username: string): string | null;
  /** Remembers this browser for the account it has just proven it holds. */
  issue(res: Response, username: string): void;
}

export function deviceCookies({ secret, secureCookies }: { secret: string; secureCookies: boolean }): DeviceCookies {
  // A key of its own, derived from the session secret, so the two uses never share one.
  const key = createHmac('sha256', secret).update('device-cookie').digest();
  const sign = (id: string, username: string) => createHmac('sha256', key).update(`${id}:${username.toLowerCase()}`).digest();

  return {
    trustedFor(req, username) {
      const token = req.headers.cookie ? parseCookie(req.headers.cookie)[DEVICE_COOKIE] : undefined;
      const [id, mac, ...rest] = token?.split('.') ?? [];
      if (!id || !mac || rest.length > 0 || !username) return null;
      const given = Buffer.from(mac, 'base64url');
      const expected = sign(id, username);
      return given.length === expected.length && timingSafeEqual(given, expected) ? id : null;
    },
    issue(res, username) {
      const id = randomBytes(16).toString('base64url');
      res.cookie(DEVICE_COOKIE, `${id}.${sign(id, username).toString('base64url')}`, {
        httpOnly: true,
        sameSite: 'lax',
        secure: secureCookies,
        // Only the login form needs it.
        path: '/login',
        maxAge: ONE_YEAR_MS,
      });
    },
  };
}
