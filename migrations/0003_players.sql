-- Up Migration

-- Glicko-2 ratings, updated in the transaction that ends a rated game (two people, not aborted).
ALTER TABLE users
  ADD COLUMN rating double precision NOT NULL DEFAULT 1500,
  ADD COLUMN rating_deviation double precision NOT NULL DEFAULT 350,
  ADD COLUMN rating_volatility double precision NOT NULL DEFAULT 0.06,
  ADD COLUMN rated_games integer NOT NULL DEFAULT 0,
  -- A deleted account keeps its row (so games keep both players) without name or password.
  ADD COLUMN deleted_at timestamptz;
CREATE INDEX users_rating_idx ON users (rating DESC) WHERE deleted_at IS NULL AND rated_games > 0;

-- What each rated game did to each player's rating.
ALTER TABLE games
  ADD COLUMN x_rating_change double precision,
  ADD COLUMN o_rating_change double precision;
CREATE INDEX games_finished_x_idx ON games (player_x, finished_at DESC) WHERE status = 'finished';
CREATE INDEX games_finished_o_idx ON games (player_o, finished_at DESC) WHERE status = 'finished';

-- Every admin action: who did what to whom, and when.
CREATE TABLE admin_actions (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  admin_id integer REFERENCES users (id),
  action text NOT NULL CHECK (action IN ('deactivate', 'activate', 'grant_admin', 'remove_admin', 'create_admin')),
  target_id integer NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_actions_created_idx ON admin_actions (created_at DESC);

-- Down Migration

DROP TABLE admin_actions;
DROP INDEX games_finished_o_idx;
DROP INDEX games_finished_x_idx;
ALTER TABLE games DROP COLUMN o_rating_change, DROP COLUMN x_rating_change;
DROP INDEX users_rating_idx;
ALTER TABLE users DROP COLUMN deleted_at, DROP COLUMN rated_games, DROP COLUMN rating_volatility,
  DROP COLUMN rating_deviation, DROP COLUMN rating;
