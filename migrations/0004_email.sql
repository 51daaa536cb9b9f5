-- Up Migration

-- The account's email address, only once confirmed (a link sent to it was opened): the address a
-- password reset goes to. Unique ignoring case among the accounts that have one.
ALTER TABLE users ADD COLUMN email text CHECK (length(email) <= 254),
  ADD COLUMN email_confirmed_at timestamptz;
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email)) WHERE email IS NOT NULL;

-- Single-use links sent by mail. Only a SHA-256 of the random token is kept, so a copy of this
-- table opens nothing. `email` is the address being confirmed (purpose confirm_email).
CREATE TABLE email_tokens (
  token_hash text PRIMARY KEY,
  user_id integer NOT NULL REFERENCES users (id),
  purpose text NOT NULL CHECK (purpose IN ('confirm_email', 'reset_password')),
  email text CHECK (length(email) <= 254),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX email_tokens_user_idx ON email_tokens (user_id, purpose);

-- Down Migration

DROP TABLE email_tokens;
DROP INDEX users_email_lower_key;
ALTER TABLE users DROP COLUMN email_confirmed_at, DROP COLUMN email;
