/** All SQL for accounts. */
import type { Pool, PoolClient } from 'pg';

export interface AccountRow {
  id: number;
  username: string;
  passwordHash: string;
  isActive: boolean;
}

export async function findAccountByUsername(db: Pool, username: string): Promise<AccountRow | undefined> {
  const { rows } = await db.query<AccountRow>(
    `SELECT id, username, password_hash AS "passwordHash", is_active AS "isActive"
       FROM users WHERE lower(username) = lower($1)`,
    [username],
  );
  return rows[0];
}

export async function findAccountById(db: Pool, id: number): Promise<AccountRow | undefined> {
  const { rows } = await db.query<AccountRow>(
    `SELECT id, username, password_hash AS "passwordHash", is_active AS "isActive"
       FROM users WHERE id = $1`,
    [id],
  );
  return rows[0];
}

/** Inserts the account, or returns undefined when the name is taken in any letter case. */
export async function insertAccount(db: Pool, username: string, passwordHash: string): Promise<number | undefined> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO users (username, password_hash) VALUES ($1, $2)
     ON CONFLICT ((lower(username))) DO NOTHING
     RETURNING id`,
    [username, passwordHash],
  );
  return rows[0]?.id;
}

/**
 * Stamps the login and returns its time in milliseconds (the database's clock, truncated to
 * milliseconds so that it compares exactly with sessions_valid_after). With `checkedHash`, only if
 * the password is still the one just checked: a login whose bcrypt compare overlapped a password
 * change or reset fails instead of outliving it.
 * @returns undefined when the password changed meanwhile.
 */
export async function recordLogin(db: Pool, id: number, checkedHash?: string): Promise<number | undefined> {
  const { rows } = await db.query<{ at: number }>(
    `UPDATE users SET last_login_at = date_trunc('milliseconds', now())
      WHERE id = $1 AND ($2::text IS NULL OR password_hash = $2) AND is_active
     RETURNING (extract(epoch FROM last_login_at) * 1000)::float8 AS at`,
    [id, checkedHash ?? null],
  );
  return rows[0]?.at;
}

/**
 * Ends the account's sessions from before now, in one statement with `change` to the users row
 * (a new password hash, say), and kills every link mailed for it (reset links, pending address
 * confirmations). With `sid`, only while that session still exists: a request whose own session
 * was ended meanwhile (logged out in another tab) changes nothing.
 * @returns the moment older sessions ended (ms), or undefined when `sid`'s session is gone.
 */
async function revokeSessions(db: Pool, id: number, sid: string | undefined, passwordHash?: string): Promise<number | undefined> {
  const { rows } = await db.query<{ at: number }>(
    `WITH changed AS (
       UPDATE users SET sessions_valid_after = date_trunc('milliseconds', now()), password_hash = coalesce($3, password_hash)
        WHERE id = $1 AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM session WHERE sid = $2))
       RETURNING id, sessions_valid_after),
     links AS (DELETE FROM email_tokens WHERE user_id IN (SELECT id FROM changed))
     SELECT (extract(epoch FROM sessions_valid_after) * 1000)::float8 AS at FROM changed`,
    [id, sid ?? null, passwordHash ?? null],
  );
  return rows[0]?.at;
}

/** Sets a new password (see revokeSessions); returns the moment older sessions ended. */
export function updatePassword(db: Pool, id: number, passwordHash: string, sid?: string): Promise<number | undefined> {
  return revokeSessions(db, id, sid, passwordHash);
}

/** Replaces the hash of the same password (a rehash), leaving sessions alone, if it is still `previous`. */
export async function replacePasswordHash(db: Pool, id: number, previous: string, passwordHash: string): Promise<void> {
  await db.query('UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2', [id, previous, passwordHash]);
}

/** Voids every session of the user that logged in before now (see revokeSessions). */
export function voidSessions(db: Pool, id: number, sid?: string): Promise<number | undefined> {
  return revokeSessions(db, id, sid);
}

/**
 * Deletes an account but keeps its row, so every game keeps both players ("deleted user"): the
 * name and address are freed, the password can never match, every session ends, every emailed
 * link dies. Its waiting games are called off by the caller, in the same transaction (see
 * callOffWaitingGames in the game service).
 */
export async function deleteAccount(db: Pool | PoolClient, id: number): Promise<void> {
  await db.query(
    `WITH gone AS (
       UPDATE users SET deleted_at = now(), is_active = false, is_admin = false, password_hash = '!',
              username = 'deleted-' || id, email = NULL, email_confirmed_at = NULL,
              sessions_valid_after = date_trunc('milliseconds', now())
        WHERE id = $1 RETURNING id),
     links AS (DELETE FROM email_tokens WHERE user_id IN (SELECT id FROM gone))
     SELECT 1`,
    [id],
  );
}
