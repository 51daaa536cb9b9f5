-- Up Migration

CREATE TABLE users (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Shown as typed; unique ignoring case through the index below.
  username text NOT NULL CHECK (username ~ '^[A-Za-z0-9_.-]{3,20}$'),
  password_hash text NOT NULL,
  is_active boolean NOT NULL DEFAULT true,
  is_admin boolean NOT NULL DEFAULT false,
  -- Sessions that logged in before this moment are no longer valid (password change, log out
  -- other sessions). Compared on every signed-in request, so it acts at once on every instance.
  -- Milliseconds, like the login times it is compared with.
  sessions_valid_after timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_login_at timestamptz
);
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));

-- connect-pg-simple's table, as its table.sql defines it.
CREATE TABLE session (
  sid varchar NOT NULL PRIMARY KEY,
  sess json NOT NULL,
  expire timestamp(6) NOT NULL
);
CREATE INDEX session_expire_idx ON session (expire);

-- rate-limiter-flexible's Postgres store: one counter per key, shared by every instance.
CREATE TABLE rate_limits (
  key varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);

-- Down Migration

DROP TABLE rate_limits;
DROP TABLE session;
DROP TABLE users;
