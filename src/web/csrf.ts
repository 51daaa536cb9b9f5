/**
 * CSRF protection with a synchronizer token kept in the session (csrf-sync). Every POST must carry
 * the token as the `_csrf` form field (or the `x-csrf-token` header for scripts). Templates ask for
 * the token only when they draw a form, so pages without forms create no session for visitors.
 */
import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import type { Pool } from 'pg';
import { csrfSync } from 'csrf-sync';
import { HttpError, SessionEnded } from './errors.js';
import { safeNextPath, setFlash } from './locals.js';
import { regenerateSession, saveSession, signedInSessions } from './session.js';

const { csrfSynchronisedProtection, generateToken } = csrfSync({
  getTokenFromRequest: (req) => {
    const field: unknown = req.body?._csrf;
    if (typeof field === 'string') return field;
    const header = req.headers['x-csrf-token'];
    return typeof header === 'string' ? header : undefined;
  },
  // Logging out a session that has already ended protects nothing; let it through to the home page.
  skipCsrfProtection: (req) => req.path === '/logout' && !req.user,
  errorConfig: {
    statusCode: 403,
    message: 'This form has expired or did not come from this site. Go back, reload the page and try again.',
    code: 'EBADCSRFTOKEN',
  },
});

export const csrfProtection: RequestHandler = csrfSynchronisedProtection;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses state-changing requests whose Origin header names another site, before anything else
 * looks at them. Browsers send Origin with every POST; requests without one (scripts, very old
 * browsers) still need the CSRF token.
 */
export function sameOriginPosts(publicOrigin: string | undefined): RequestHandler {
  return (req, _res, next) => {
    const origin = req.headers.origin;
    if (SAFE_METHODS.has(req.method) || origin === undefined) return next();
    const expected = publicOrigin ?? `${req.protocol}://${req.get('host') ?? ''}`;
    if (origin === expected) return next();
    next(new HttpError(403, 'This request came from another site and was refused.'));
  };
}

/** Makes `csrfToken()` available to templates. */
export const csrfTokenLocal: RequestHandler = (req, res, next) => {
  res.locals.csrfToken = () => generateToken(req);
  next();
};

/** The same-site page a form was posted from (its Referer), else the home page. */
function formPage(req: Request): string {
  const referer = req.get('referer');
  if (!referer) return '/';
  try {
    const url = new URL(referer);
    return url.host === req.get('host') ? safeNextPath(url.pathname + url.search) : '/';
  } catch {
    return '/';
  }
}

/**
 * A form whose token no longer matches because the session changed under it (a second tab, a
 * logout elsewhere, an expired session) leads somewhere useful instead of a bare 403, and still
 * changes nothing:
 * - a stale login or register form from someone now signed in goes where they were going;
 * - any other stale form from someone signed in goes back to its page, saying nothing was done;
 * - a stale form after the session ended goes to the login page, with `next` back to its page, and
 *   so does any request whose session ended while it ran (SessionEnded).
 * A request with no token at all (a script, a forged post from a site that sent no Origin) and
 * scripts asking for JSON keep the 403. Forged cross-site form posts never get here: browsers send
 * their Origin, which sameOriginPosts refuses first.
 */
export const staleForms: ErrorRequestHandler = async (err: { code?: unknown }, req, res, next) => {
  const staleToken = err?.code === 'EBADCSRFTOKEN' && typeof req.body?._csrf === 'string';
  const ended = err instanceof SessionEnded;
  if (!(staleToken || ended) || req.accepts(['html', 'json']) === 'json') return next(err);
  const signInForm = req.path === '/login' || req.path === '/register';
  let target: string;
  if (ended) {
    // The session ended while this request ran: as after a logout, whoever was signed in.
    await regenerateSession(req).catch(() => undefined);
    target = `/login?next=${encodeURIComponent(formPage(req))}`;
    setFlash(req, 'alert', err.message as string);
  } else if (req.user && signInForm) {
    target = safeNextPath(req.body?.next);
    setFlash(req, 'status', `You are already signed in as ${req.user.username}.`);
  } else if (req.user) {
    target = formPage(req);
    setFlash(req, 'alert', 'That form had expired, so nothing was done. Please try again.');
  } else if (signInForm) {
    const back = safeNextPath(req.body?.next);
    target = back === '/' ? req.path : `${req.path}?next=${encodeURIComponent(back)}`;
    setFlash(req, 'alert', 'That page had expired, so nothing was done. Please try again.');
  } else {
    target = `/login?next=${encodeURIComponent(formPage(req))}`;
    setFlash(req, 'alert', 'Your session has ended, so nothing was done. Log in to continue.');
  }
  try {
    await saveSession(req);
  } catch (saveErr) {
    return next(saveErr);
  }
  res.redirect(303, target);
};

/**
 * Reads the session again once a signed-in POST's body has arrived: a request that was sent slowly
 * (or queued) must not act for a session that was logged out or revoked in the meantime. One query
 * per signed-in POST; the statements that revoke sessions guard themselves as well.
 */
export function recheckSession(db: Pool): RequestHandler {
  return async (req, _res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || !req.user) return next();
    const valid = await signedInSessions(db, [req.sessionID]);
    next(valid.has(req.sessionID) ? undefined : new SessionEnded());
  };
}
