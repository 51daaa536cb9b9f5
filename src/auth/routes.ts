/** Pages and form posts for accounts. Thin: parse nothing here, call the service, pick a page. */
import type { Request, RequestHandler, Response } from 'express';
import type { DeviceCookies } from './device.js';
import type { AuthLimiter } from './rate-limit.js';
import { changePassword, deleteAccount, logIn, register, type AuthDeps, type FieldErrors, type LoggedIn } from './service.js';
import { voidSessions } from './store.js';
import type { EventBus } from '../db/events.js';
import { HttpError, SessionEnded } from '../web/errors.js';
import { safeNextPath, setFlash } from '../web/locals.js';
import { destroySession, regenerateSession, saveSession, SESSION_COOKIE, sessionKey } from '../web/session.js';

export interface AuthRouteDeps extends AuthDeps {
  limiter: AuthLimiter;
  devices: DeviceCookies;
  bus: EventBus;
  secureCookies: boolean;
  /** Sends the link that confirms an address given at registration. */
  confirmAddress(req: Request, user: { id: number; username: string }, email: string): Promise<void>;
}

/** The username as the rate limits count it: spaces around it are not part of it (see logIn). */
function usernameOf(body: unknown): string {
  const value: unknown = (body as { username?: unknown } | undefined)?.username;
  return typeof value === 'string' ? value.trim() : '';
}

/** "30 seconds", "1 minute", "15 minutes": rounded up, so that trying again then works. */
function waitInWords(seconds: number): string {
  if (seconds < 60) return seconds === 1 ? '1 second' : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

function tooManyAttempts(retryAfterSeconds: number): HttpError {
  return new HttpError(429, `Too many attempts. Try again in ${waitInWords(retryAfterSeconds)}.`, retryAfterSeconds);
}

/**
 * A new session id at every login (no fixation), holding the user and the login time. A session
 * it replaces that was signed in ends everywhere, its sockets too: they act for the old id.
 */
export async function startSession(req: Request, bus: EventBus, { user, loginAt }: Pick<LoggedIn, 'user' | 'loginAt'>) {
  const replaced = req.user ? req.sessionID : undefined;
  await regenerateSession(req);
  if (replaced) await bus.publish({ kind: 'session', session: sessionKey(replaced) });
  req.session.userId = user.id;
  req.session.loginAt = loginAt;
  req.session.refreshedAt = Date.now();
}

function clearSessionCookie(res: Response, secureCookies: boolean) {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: secureCookies, path: '/' });
}

/** Logging in and creating an account, both counted by the rate limits. */
function signInRoutes(deps: AuthRouteDeps) {
  const { limiter, devices } = deps;

  const showLogin: RequestHandler = (req, res) => {
    if (req.user) return res.redirect(303, safeNextPath(req.query.next));
    res.render('login', { title: 'Log in', errors: {}, username: '', next: safeNextPath(req.query.next) });
  };

  const postLogin: RequestHandler = async (req, res) => {
    const username = usernameOf(req.body);
    const next = safeNextPath(req.body?.next);
    const attempt = { ip: req.ip ?? '', username, device: devices.trustedFor(req, username) };
    const retryAfter = await limiter.checkLogin(attempt);
    if (retryAfter) throw tooManyAttempts(retryAfter);

    const outcome = await logIn(deps, req.body);
    if (!outcome.ok) {
      await limiter.loginFailed(attempt);
      return res.status(401).render('login', { title: 'Log in', errors: outcome.errors, username, next });
    }
    await limiter.loginSucceeded(attempt);
    devices.issue(res, outcome.user.username);
    await startSession(req, deps.bus, outcome);
    await saveSession(req);
    res.redirect(303, next);
  };

  const showRegister: RequestHandler = (req, res) => {
    if (req.user) return res.redirect(303, '/');
    res.render('register', { title: 'Create an account', errors: {}, username: '', next: safeNextPath(req.query.next) });
  };

  /** Serves the register page and the login form's "Create account" button (`from=login`). */
  const postRegister: RequestHandler = async (req, res) => {
    const username = usernameOf(req.body);
    const next = safeNextPath(req.body?.next);
    const fromLoginForm = req.body?.from === 'login';
    const retryAfter = await limiter.checkRegister(req.ip ?? '', username);
    if (retryAfter) throw tooManyAttempts(retryAfter);

    const outcome = await register(deps, req.body, { requireConfirm: !fromLoginForm }).catch(async (err: unknown) => {
      await limiter.registerAborted(req.ip ?? '');
      throw err;
    });
    if (!outcome.ok) {
      await limiter.registerRefused(req.ip ?? '');
      const page = fromLoginForm ? 'login' : 'register';
      const title = fromLoginForm ? 'Log in' : 'Create an account';
      return res.status(422).render(page, { title, errors: outcome.errors, username, next });
    }
    devices.issue(res, outcome.user.username);
    await startSession(req, deps.bus, outcome);
    if (outcome.email) await deps.confirmAddress(req, outcome.user, outcome.email);
    const mailed = outcome.email ? ` We have sent a link to ${outcome.email} to confirm it.` : '';
    setFlash(req, 'status', `Welcome, ${outcome.user.username}! Your account is ready.${mailed}`);
    await saveSession(req);
    res.redirect(303, next);
  };

  return { showLogin, postLogin, showRegister, postRegister };
}

/** What a signed-in person does with their account: log out, change the password, end other sessions, delete it. */
function accountRoutes(deps: AuthRouteDeps) {
  const showLogout: RequestHandler = (req, res) => {
    if (!req.user) return res.redirect(303, '/');
    res.render('logout', { title: 'Log out' });
  };

  const postLogout: RequestHandler = async (req, res) => {
    const ended = req.user ? sessionKey(req.sessionID) : undefined;
    await destroySession(req);
    // After the row is gone, so a socket opening meanwhile is caught by its own check (see live.ts);
    // its sockets on every instance stop acting for it.
    if (ended) await deps.bus.publish({ kind: 'session', session: ended });
    clearSessionCookie(res, deps.secureCookies);
    res.redirect(303, '/?logged_out=1');
  };

  /** The account page; `failed` names the form whose errors are shown. */
  const renderAccount = (res: Response, failed: 'password' | 'delete' | null = null, errors: FieldErrors = {}) =>
    res.status(failed ? 422 : 200).render('account', { title: 'Your account', failed, errors });

  const showAccount: RequestHandler = (_req, res) => renderAccount(res);

  const postPassword: RequestHandler = async (req, res) => {
    const user = req.user!;
    const outcome = await changePassword(deps, user.id, req.sessionID, req.body);
    if (!outcome.ok) return renderAccount(res, 'password', outcome.errors);
    // Every session of the user from before validAfter ends; this browser goes on in a new one.
    await deps.bus.publish({ kind: 'user', user: user.id, validAfter: outcome.validAfter });
    await startSession(req, deps.bus, { user, loginAt: outcome.validAfter });
    setFlash(req, 'status', 'Your password has been changed. Your other sessions have been logged out.');
    await saveSession(req);
    res.redirect(303, '/account');
  };

  /** Ends every other session of the user (other browsers, a lost phone); this browser goes on in a new one. */
  const postOtherSessions: RequestHandler = async (req, res) => {
    const user = req.user!;
    const validAfter = await voidSessions(deps.db, user.id, req.sessionID);
    if (validAfter === undefined) throw new SessionEnded();
    await deps.bus.publish({ kind: 'user', user: user.id, validAfter });
    await startSession(req, deps.bus, { user, loginAt: validAfter });
    setFlash(req, 'status', 'Your other sessions have been logged out.');
    await saveSession(req);
    res.redirect(303, '/account');
  };

  const postDelete: RequestHandler = async (req, res) => {
    const user = req.user!;
    const outcome = await deleteAccount(deps, user.id, req.body);
    if (!outcome.ok) return renderAccount(res, 'delete', outcome.errors);
    await deps.bus.publish({ kind: 'user', user: user.id });
    await destroySession(req);
    clearSessionCookie(res, deps.secureCookies);
    res.redirect(303, '/?deleted=1');
  };

  return { showLogout, postLogout, showAccount, postPassword, postOtherSessions, postDelete };
}

/** Every account page and form post, by the names src/app.ts mounts them under. */
export function authRoutes(deps: AuthRouteDeps) {
  return { ...signInRoutes(deps), ...accountRoutes(deps) };
}
