/**
 * CSRF protection with a synchronizer token kept in the session (csrf-sync). Every POST must carry
 * the token as the `_csrf` form field (or the `x-csrf-token` header for scripts). Templates ask for
 * the token only when they draw a form, so pages without forms create no session for visitors.
 */
import type { RequestHandler } from 'express';
import { csrfSync } from 'csrf-sync';
import { HttpError } from './errors.js';

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
