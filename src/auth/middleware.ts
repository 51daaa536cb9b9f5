/**
 * Who is signed in. The session store reads the account with the session on every request, so a
 * deactivation or a password change acts at once on every instance.
 */
import type { RequestHandler } from 'express';
import type { SessionData } from 'express-session';
import { regenerateSession, type SessionAccount } from '../web/session.js';

export interface SignedInUser {
  id: number;
  username: string;
  isAdmin: boolean;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      user?: SignedInUser;
    }
  }
}

/** A session that belongs to a current, active account and postdates its last revocation. */
export function validAccount(session: Partial<SessionData> | undefined): SessionAccount | undefined {
  const account = session?.account;
  if (!account || !account.isActive || session?.loginAt === undefined || session.loginAt < account.sessionsValidAfter) return undefined;
  return account;
}

/**
 * Loads the session's user. A deactivated account, or a session older than the user's last
 * password change, is ended here: that is how "log out everywhere" works across instances.
 */
export function loadUser(): RequestHandler {
  return async (req, _res, next) => {
    if (req.session.userId === undefined) return next();
    const account = validAccount(req.session);
    if (!account) {
      // Regenerate rather than destroy: the old row goes, and the request goes on as a visitor's.
      await regenerateSession(req);
      return next();
    }
    req.user = { id: account.id, username: account.username, isAdmin: account.isAdmin };
    next();
  };
}

/** Sends visitors to the login page, and back here afterwards. */
export const requireUser: RequestHandler = (req, res, next) => {
  if (req.user) return next();
  const back = req.method === 'GET' ? req.originalUrl : '/';
  res.redirect(303, `/login?next=${encodeURIComponent(back)}`);
};
