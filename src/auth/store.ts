/** All SQL for accounts. */
import type { Pool } from 'pg';

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
 * milliseconds so that it compares exactly with sessions_valid_after).
 */
export async function recordLogin(db: Pool, id: number): Promise<number> {
  const { rows } = await db.query<{ at: number }>(
    `UPDATE users SET last_login_at = date_trunc('milliseconds', now()) WHERE id = $1
     RETURNING (extract(epoch FROM last_login_at) * 1000)::float8 AS at`,
    [id],
  );
  return rows[0]!.at;
}

/** Sets a new password and voids every session that logged in before now; returns that moment. */
export async function updatePassword(db: Pool, id: number, passwordHash: string): Promise<number> {
  // Reset links sent for the old password die with it.
  const { rows } = await db.query<{ at: number }>(
    `WITH links AS (DELETE FROM email_tokens WHERE user_id = $1 AND purpose = 'reset_password')
     UPDATE users SET password_hash = $2, sessions_valid_after = date_trunc('milliseconds', now())
      WHERE id = $1
     RETURNING (extract(epoch FROM sessions_valid_after) * 1000)::float8 AS at`,
    [id, passwordHash],
  );
  return rows[0]!.at;
}

/** Replaces the hash of the same password (a rehash), leaving sessions alone. */
export async function replacePasswordHash(db: Pool, id: number, passwordHash: string): Promise<void> {
  await db.query('UPDATE users SET password_hash = $2 WHERE id = $1', [id, passwordHash]);
}

/** Voids every session of the user that logged in before now; returns that moment. */
export async function voidSessions(db: Pool, id: number): Promise<number> {
  const { rows } = await db.query<{ at: number }>(
    `UPDATE users SET sessions_valid_after = date_trunc('milliseconds', now()) WHERE id = $1
     RETURNING (extract(epoch FROM sessions_valid_after) * 1000)::float8 AS at`,
    [id],
  );
  return rows[0]!.at;
}

/**
 * Deletes an account but keeps its row, so every game keeps both players ("deleted user"): the
 * name and address are freed, the password can never match, every session ends, every emailed
 * link dies, waiting games are called off.
 */
export async function deleteAccount(db: Pool, id: number): Promise<void> {
  await db.query(
    `WITH gone AS (
       UPDATE users SET deleted_at = now(), is_active = false, is_admin = false, password_hash = '!',
              username = 'deleted-' || id, email = NULL, email_confirmed_at = NULL,
              sessions_valid_after = date_trunc('milliseconds', now())
        WHERE id = $1 RETURNING id),
     links AS (DELETE FROM email_tokens WHERE user_id IN (SELECT id FROM gone))
     UPDATE games SET status = 'aborted', reason = 'cancelled', version = version + 1, updated_at = now(), finished_at = now()
      WHERE status = 'waiting' AND created_by IN (SELECT id FROM gone)`,
    [id],
  );
}
