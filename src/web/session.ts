/**
 * Sessions in PostgreSQL (connect-pg-simple), shared by every instance. The store's per-request
 * `touch` would be an UPDATE and a WAL flush on every page view; instead the expiry moves forward
 * at most once an hour (refreshSessionExpiry), which keeps the 14-day idle timeout.
 */
import { createHash } from 'node:crypto';
import connectPgSimple from 'connect-pg-simple';
import type { RequestHandler } from 'express';
import session from 'express-session';
import type { Pool } from 'pg';

declare module 'express-session' {
  interface SessionData {
    /**
     * The signed-in account as the database has it now, read with the session in one query (see
     * AccountSessionStore). Never stored: it is dropped before every write.
     */
    account: SessionAccount | null;
    userId: number;
    /** Login time on the database's clock (ms); compared with the user's sessions_valid_after. */
    loginAt: number;
    /** Last time the expiry was moved forward (ms). */
    refreshedAt: number;
    flash: Flash;
    /** Set when the session came from, or has been written to, the store (see AccountSessionStore.set). */
    stored: true;
  }
}

export interface Flash {
  /** `status` is a confirmation, `alert` an error; they map to the ARIA roles of the same name. */
  role: 'status' | 'alert';
  text: string;
}

/** What a signed-in request needs to know about its account. */
export interface SessionAccount {
  id: number;
  username: string;
  isActive: boolean;
  isAdmin: boolean;
  /** Milliseconds since the epoch; sessions that logged in earlier are void. */
  sessionsValidAfter: number;
}

export const SESSION_COOKIE = 'ttt.sid';
export const SESSION_IDLE_MS = 14 * 24 * 60 * 60 * 1000;
const REFRESH_EVERY_MS = 60 * 60 * 1000;

export interface SessionOptions {
  pool: Pool;
  secret: string;
  secureCookies: boolean;
}

const PgStore = connectPgSimple(session);

/**
 * connect-pg-simple, with a `get` that reads the session and its account in one query: a signed-in
 * page costs one round trip for "who is this" instead of two, and the account is current on every
 * request, so deactivation and password changes act at once on every instance.
 */
class AccountSessionStore extends PgStore {
  readonly #db: Pool;

  constructor(options: ConstructorParameters<typeof PgStore>[0] & { pool: Pool }) {
    super(options);
    this.#db = options.pool;
  }

  override get(sid: string, callback: (err: unknown, session?: session.SessionData | null) => void): void {
    this.#db
      .query<SessionRow>({
        // Named: every request runs it, and a server then plans it once per connection.
        name: 'session-account',
        text: `SELECT s.sess, u.id, u.username, u.is_active AS "isActive", u.is_admin AS "isAdmin",
                      (extract(epoch FROM u.sessions_valid_after) * 1000)::float8 AS "sessionsValidAfter"
                 FROM session s
                 LEFT JOIN users u ON u.id = (s.sess ->> 'userId')::int
                WHERE s.sid = $1 AND s.expire >= now()`,
        values: [sid],
      })
      .then(({ rows: [row] }) => {
        if (!row) return callback(null, null);
        const { sess, ...account } = row;
        const data = (typeof sess === 'string' ? JSON.parse(sess) : sess) as session.SessionData;
        data.account = account.id === null ? null : (account as SessionAccount);
        data.stored = true;
        callback(null, data);
      }, callback);
  }

  /**
   * A session that exists is only ever updated; only a new one is inserted. connect-pg-simple's
   * upsert would let a request that loaded a session before logout destroyed it (a slow bcrypt
   * check, say) write it back afterwards, reviving a session its owner ended. `data` is the
   * request's Session object, so marking it stored after the insert makes its later saves updates.
   */
  override set(sid: string, data: session.SessionData, callback?: (err?: unknown) => void): void {
    const { account: _account, stored, ...sess } = data;
    const expires = data.cookie?.expires ? new Date(data.cookie.expires).getTime() : Date.now() + SESSION_IDLE_MS;
    const values = [sid, JSON.stringify(sess), Math.ceil(expires / 1000)];
    const text = stored
      ? 'UPDATE session SET sess = $2, expire = to_timestamp($3) WHERE sid = $1'
      : 'INSERT INTO session (sid, sess, expire) VALUES ($1, $2, to_timestamp($3)) ON CONFLICT (sid) DO NOTHING';
    this.#db.query({ name: stored ? 'session-update' : 'session-insert', text, values }).then(() => {
      // Not enumerable: it stays out of express-session's change hash, so it causes no extra save.
      if (!stored) Object.defineProperty(data, 'stored', { value: true, enumerable: false, writable: true, configurable: true });
      callback?.();
    }, callback ?? (() => undefined));
  }
}

type SessionRow = { sess: unknown } & (SessionAccount | { [K in keyof SessionAccount]: null });

export function createSession({ pool, secret, secureCookies }: SessionOptions) {
  const store = new AccountSessionStore({
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

/**
 * A session's name on the event bus: its id is a bearer secret, so events carry a hash of it.
 * base64url of SHA-256, 43 characters.
 */
export function sessionKey(sid: string): string {
  return createHash('sha256').update(sid).digest('base64url');
}

/**
 * Which of these session ids are still signed in, with when each expires (ms): the row exists and
 * has not expired, its account is active, and it logged in after the account's last revocation
 * (the rule of validAccount).
 */
export async function signedInSessions(db: Pool, sids: string[]): Promise<Map<string, number>> {
  const { rows } = await db.query<{ sid: string; expires: number }>(
    `SELECT s.sid, (extract(epoch FROM s.expire) * 1000)::float8 AS expires
       FROM session s JOIN users u ON u.id = (s.sess ->> 'userId')::int
      WHERE s.sid = ANY($1) AND s.expire >= now() AND u.is_active
        AND (s.sess ->> 'loginAt')::float8 >= extract(epoch FROM u.sessions_valid_after) * 1000`,
    [sids],
  );
  return new Map(rows.map((r) => [r.sid, r.expires]));
}

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
