/** All SQL for email addresses and the single-use links sent to them. */
import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';

export type TokenPurpose = 'confirm_email' | 'reset_password';

/** Only this hash of a token is stored: base64url of SHA-256. */
const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url');

/** A link's secret: 32 random bytes, base64url (43 characters). */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/**
 * Makes a single-use token for the account and returns it (the caller mails it). A new address to
 * confirm replaces any earlier one still pending: only the latest request counts.
 */
export async function createToken(db: Pool, userId: number, purpose: TokenPurpose, ttlMs: number, email: string | null = null): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db.query(
    `WITH earlier AS (DELETE FROM email_tokens WHERE user_id = $2 AND purpose = 'confirm_email' AND $3 = 'confirm_email')
     INSERT INTO email_tokens (token_hash, user_id, purpose, email, expires_at)
     VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond')`,
    [tokenHash(token), userId, purpose, email, ttlMs],
  );
  return token;
}

export interface TokenOwner {
  userId: number;
  username: string;
  /** The address a confirm_email token confirms. */
  email: string | null;
}

/** The account a token is for, while the token is unused, unexpired and its account active. */
export async function findToken(db: Pool, token: string, purpose: TokenPurpose): Promise<TokenOwner | undefined> {
  const { rows } = await db.query<TokenOwner>(
    `SELECT u.id AS "userId", u.username, t.email
       FROM email_tokens t JOIN users u ON u.id = t.user_id
      WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > now()
        AND u.is_active AND u.deleted_at IS NULL`,
    [tokenHash(token), purpose],
  );
  return rows[0];
}

/** An active account with a confirmed address, by username or by that address (any letter case). */
export async function findRecoveryTarget(db: Pool, usernameOrEmail: string): Promise<{ id: number; username: string; email: string } | undefined> {
  const { rows } = await db.query<{ id: number; username: string; email: string }>(
    `SELECT id, username, email FROM users
      WHERE (lower(username) = lower($1) OR lower(email) = lower($1))
        AND email IS NOT NULL AND is_active AND deleted_at IS NULL
      LIMIT 1`,
    [usernameOrEmail],
  );
  return rows[0];
}

/**
 * Uses a reset token and sets the new password in one statement: the token is marked used only if
 * it was unused and unexpired (so two submissions cannot both succeed), the account's sessions
 * from before now are void, and every other link mailed for the account dies with the old password.
 * @returns the account and the moment its older sessions ended (ms), or undefined if the token was not valid.
 */
export async function resetPassword(db: Pool, token: string, passwordHash: string): Promise<{ userId: number; username: string; validAfter: number } | undefined> {
  const { rows } = await db.query<{ userId: number; username: string; validAfter: number }>(
    `WITH used AS (
       UPDATE email_tokens SET used_at = now()
        WHERE token_hash = $1 AND purpose = 'reset_password' AND used_at IS NULL AND expires_at > now()
       RETURNING user_id),
     others AS (
       DELETE FROM email_tokens WHERE token_hash <> $1 AND user_id IN (SELECT user_id FROM used))
     UPDATE users SET password_hash = $2, sessions_valid_after = date_trunc('milliseconds', now())
      WHERE id IN (SELECT user_id FROM used) AND is_active AND deleted_at IS NULL
     RETURNING id AS "userId", username, (extract(epoch FROM sessions_valid_after) * 1000)::float8 AS "validAfter"`,
    [tokenHash(token), passwordHash],
  );
  return rows[0];
}

export interface ConfirmedEmail {
  result: 'confirmed' | 'taken' | 'invalid';
  username?: string;
  /** The address it replaced, to be told of the change. */
  previous?: string | null;
}

/**
 * Uses a confirmation token: the address it carries becomes the account's, and reset links sent to
 * the old address die.
 * @returns 'taken' when another account has confirmed that address meanwhile.
 */
export async function confirmEmail(db: Pool, token: string): Promise<ConfirmedEmail> {
  try {
    const { rows } = await db.query<{ username: string; previous: string | null }>(
      `WITH used AS (
         UPDATE email_tokens SET used_at = now()
          WHERE token_hash = $1 AND purpose = 'confirm_email' AND used_at IS NULL AND expires_at > now()
         RETURNING user_id, email),
       old AS (SELECT id, email FROM users WHERE id IN (SELECT user_id FROM used)),
       links AS (DELETE FROM email_tokens WHERE purpose = 'reset_password' AND user_id IN (SELECT user_id FROM used))
       UPDATE users u SET email = used.email, email_confirmed_at = now()
         FROM used, old WHERE u.id = used.user_id AND old.id = u.id AND u.is_active AND u.deleted_at IS NULL
       RETURNING u.username, old.email AS previous`,
      [tokenHash(token)],
    );
    return rows[0] ? { result: 'confirmed', ...rows[0] } : { result: 'invalid' };
  } catch (err) {
    if ((err as { code?: string }).code === '23505') return { result: 'taken' };
    throw err;
  }
}

/** The account's confirmed address, if any. */
export async function emailOf(db: Pool, userId: number): Promise<string | null> {
  const { rows } = await db.query<{ email: string | null }>('SELECT email FROM users WHERE id = $1', [userId]);
  return rows[0]?.email ?? null;
}
