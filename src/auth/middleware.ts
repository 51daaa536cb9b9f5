/** Who is signed in, checked on every request against the database so revocation acts at once. */
import type { RequestHandler } from 'express';
import type { Pool } from 'pg';
import { regenerateSession } from '../web/session.js';
import { findSessionUser } from './store.js';

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

/**
 * Loads the session's user. A deactivated account, or a session older than the user's last
 * password change, is ended here: that is how "log out everywhere" works across instances.
 */
export function loadUser(db: Pool): RequestHandler {
  return async (req, _res, next) => {
    const { userId, loginAt } = req.session;
    if (userId === undefined) return next();
    const row = await findSessionUser(db, userId);
    if (!row || !row.isActive || loginAt === undefined || loginAt < row.sessionsValidAfter) {
      // Regenerate rather than destroy: the old row goes, and the request goes on as a visitor's.
      await regenerateSession(req);
      return next();
    }
    req.user = { id: row.id, username: row.username, isAdmin: row.isAdmin };
    next();
  };
}

/** Sends visitors to the login page, and back here afterwards. */
export const requireUser: RequestHandler = (req, res, next) => {
  if (req.user) return next();
  const back = req.method === 'GET' ? req.originalUrl : '/';
  res.redirect(303, `/login?next=${encodeURIComponent(back)}`);
};
