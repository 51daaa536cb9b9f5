/** Pages and form posts for accounts. Thin: parse nothing here, call the service, pick a page. */
import type { Request, RequestHandler, Response } from 'express';
import type { AuthLimiter } from './rate-limit.js';
import { changePassword, logIn, register, type AuthDeps, type LoggedIn } from './service.js';
import { renderError } from '../web/errors.js';
import { safeNextPath, setFlash } from '../web/locals.js';
import { regenerateSession, destroySession, SESSION_COOKIE } from '../web/session.js';

export interface AuthRouteDeps extends AuthDeps {
  limiter: AuthLimiter;
  secureCookies: boolean;
}

function usernameOf(body: unknown): string {
  const value: unknown = (body as { username?: unknown } | undefined)?.username;
  return typeof value === 'string' ? value : '';
}

function tooManyAttempts(res: Response, retryAfterSeconds: number) {
  const minutes = Math.ceil(retryAfterSeconds / 60);
  res.set('Retry-After', String(retryAfterSeconds));
  renderError(
    res,
    429,
    `Too many attempts. Try again in ${minutes === 1 ? '1 minute' : `${minutes} minutes`}.`,
  );
}

/** A new session id at every login (no fixation), holding the user and the login time. */
async function startSession(req: Request, { user, loginAt }: LoggedIn) {
  await regenerateSession(req);
  req.session.userId = user.id;
  req.session.loginAt = loginAt;
  req.session.refreshedAt = Date.now();
}

export function authRoutes(deps: AuthRouteDeps) {
  const { limiter } = deps;

  const showLogin: RequestHandler = (req, res) => {
    if (req.user) return res.redirect(303, safeNextPath(req.query.next));
    res.render('login', { title: 'Log in', errors: {}, username: '', next: safeNextPath(req.query.next) });
  };

  const postLogin: RequestHandler = async (req, res) => {
    const username = usernameOf(req.body);
    const next = safeNextPath(req.body?.next);
    const retryAfter = await limiter.checkLogin(req.ip ?? '', username);
    if (retryAfter) return tooManyAttempts(res, retryAfter);

    const outcome = await logIn(deps, req.body);
    if (!outcome.ok) {
      if (username) await limiter.loginFailed(username);
      return res.status(401).render('login', { title: 'Log in', errors: outcome.errors, username, next });
    }
    await limiter.loginSucceeded(username);
    await startSession(req, outcome);
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
    if (retryAfter) return tooManyAttempts(res, retryAfter);

    const outcome = await register(deps, req.body, { requireConfirm: !fromLoginForm });
    if (!outcome.ok) {
      const page = fromLoginForm ? 'login' : 'register';
      const title = fromLoginForm ? 'Log in' : 'Create an account';
      return res.status(422).render(page, { title, errors: outcome.errors, username, next });
    }
    await startSession(req, outcome);
    setFlash(req, 'status', `Welcome, ${outcome.user.username}! Your account is ready.`);
    res.redirect(303, next);
  };

  const showLogout: RequestHandler = (req, res) => {
    if (!req.user) return res.redirect(303, '/');
    res.render('logout', { title: 'Log out' });
  };

  const postLogout: RequestHandler = async (req, res) => {
    await destroySession(req);
    res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: deps.secureCookies, path: '/' });
    res.redirect(303, '/?logged_out=1');
  };

  const showAccount: RequestHandler = (_req, res) => {
    res.render('account', { title: 'Your account', errors: {} });
  };

  const postPassword: RequestHandler = async (req, res) => {
    const user = req.user!;
    const outcome = await changePassword(deps, user.id, req.body);
    if (!outcome.ok) return res.status(422).render('account', { title: 'Your account', errors: outcome.errors });
    // This session stays; every other one of this user logged in before validAfter and ends.
    await startSession(req, { user, loginAt: outcome.validAfter });
    setFlash(req, 'status', 'Your password has been changed. Your other sessions have been logged out.');
    res.redirect(303, '/account');
  };

  return { showLogin, postLogin, showRegister, postRegister, showLogout, postLogout, showAccount, postPassword };
}
