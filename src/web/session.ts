/**
 * Sessions in PostgreSQL (connect-pg-simple), shared by every instance. The store's per-request
 * `touch` would be an UPDATE and a WAL flush on every page view; instead the expiry moves forward
 * at most once an hour (refreshSessionExpiry), which keeps the 14-day idle timeout.
 */
import connectPgSimple from 'connect-pg-simple';
import type { RequestHandler } from 'express';
import session from 'express-session';
import type { Pool } from 'pg';

declare module 'express-session' {
  interface SessionData {
    userId: number;
    /** Login time on the database's clock (ms); compared with the user's sessions_valid_after. */
    loginAt: number;
    /** Last time the expiry was moved forward (ms). */
    refreshedAt: number;
    flash: Flash;
  }
}

export interface Flash {
  /** `status` is a confirmation, `alert` an error; they map to the ARIA roles of the same name. */
  role: 'status' | 'alert';
  text: string;
}

export const SESSION_COOKIE = 'ttt.sid';
export const SESSION_IDLE_MS = 14 * 24 * 60 * 60 * 1000;
const REFRESH_EVERY_MS = 60 * 60 * 1000;

export interface SessionOptions {
  pool: Pool;
  secret: string;
  secureCookies: boolean;
}

export function createSession({ pool, secret, secureCookies }: SessionOptions) {
  const PgStore = connectPgSimple(session);
  const store = new PgStore({
    pool,
    tableName: 'session',
    createTableIfMissing: false,
    disableTouch: true,
    pruneSessionInterval: 15 * 60,
  });
  const middleware = session({
    store,
    name: SESSION_COOKIE,
    secret,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax', secure: secureCookies, maxAge: SESSION_IDLE_MS },
  });
  return { middleware, store };
}

/** Moves a signed-in session's expiry (row and cookie) forward, at most once an hour. */
export const refreshSessionExpiry: RequestHandler = (req, _res, next) => {
  const now = Date.now();
  if (req.session.userId !== undefined && now - (req.session.refreshedAt ?? 0) > REFRESH_EVERY_MS) {
    req.session.refreshedAt = now;
  }
  next();
};

/** Regenerates the session id and promisifies the callback API. */
export function regenerateSession(req: Express.Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
}

/**
 * Writes the session now. Call before redirecting after a change: express-session would save it
 * as the response ends, but the browser follows a 303 as soon as it sees the headers, and its
 * next request could otherwise arrive before the row is written.
 */
export function saveSession(req: Express.Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
}

export function destroySession(req: Express.Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));
}
