-- Up Migration

CREATE TABLE games (
  -- 12 random letters and digits (about 71 bits): the invite link, so it must not be guessable.
  id text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9]{12}$'),
  mode text NOT NULL CHECK (mode IN ('ai', 'friend', 'open')),
  -- Against the computer: its level, and the mark it plays (its seat below stays NULL).
  ai_level text CHECK (ai_level IN ('easy', 'medium', 'perfect')),
  ai_mark char(1) CHECK (ai_mark IN ('X', 'O')),
  created_by integer NOT NULL REFERENCES users (id),
  player_x integer REFERENCES users (id),
  player_o integer REFERENCES users (id),
  status text NOT NULL CHECK (status IN ('waiting', 'active', 'finished', 'aborted')),
  result text CHECK (result IN ('x_won', 'o_won', 'draw')),
  -- How it ended: three in a row, a full board, resignation, an abandoned game claimed by the
  -- opponent, nobody joining within the hour, or the creator cancelling before anyone joined.
  reason text CHECK (reason IN ('line', 'full', 'resigned', 'abandoned', 'expired', 'cancelled')),
  board char(9) NOT NULL DEFAULT '.........' CHECK (board ~ '^[XO.]{9}$'),
  ply smallint NOT NULL DEFAULT 0 CHECK (ply BETWEEN 0 AND 9),
  -- Grows with every change (join, move, resign, result, rematch offer): clients resync by it.
  version integer NOT NULL DEFAULT 1,
  -- The player to move has had the turn since this moment (claim victory counts from it).
  turn_started_at timestamptz,
  rematch_offered_by integer REFERENCES users (id),
  rematch_id text REFERENCES games (id),
  rematch_of text REFERENCES games (id),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  finished_at timestamptz,
  CHECK ((mode = 'ai') = (ai_level IS NOT NULL AND ai_mark IS NOT NULL)),
  CHECK (player_x IS DISTINCT FROM player_o)
);
CREATE INDEX games_player_x_idx ON games (player_x, updated_at DESC);
CREATE INDEX games_player_o_idx ON games (player_o, updated_at DESC);
CREATE INDEX games_open_idx ON games (created_at) WHERE status = 'waiting';
CREATE INDEX games_active_idx ON games (updated_at DESC) WHERE status = 'active';

-- One row per move. The primary key and the `WHERE ply = expected` update of games, in the same
-- transaction, make a second move at the same ply impossible from any tab, retry or instance.
CREATE TABLE moves (
  game_id text NOT NULL REFERENCES games (id) ON DELETE CASCADE,
  ply smallint NOT NULL CHECK (ply BETWEEN 1 AND 9),
  cell smallint NOT NULL CHECK (cell BETWEEN 0 AND 8),
  mark char(1) NOT NULL CHECK (mark IN ('X', 'O')),
  -- NULL for the computer's moves.
  player_id integer REFERENCES users (id),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (game_id, ply),
  UNIQUE (game_id, cell)
);

-- Who is watching their own game, per app instance: live connections and when last seen. A
-- player with no live connection anywhere, or only on instances that stopped refreshing their
-- rows, is away; Claim victory counts from the latest seen_at.
CREATE TABLE game_presence (
  game_id text NOT NULL REFERENCES games (id) ON DELETE CASCADE,
  user_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  instance_id text NOT NULL,
  connections integer NOT NULL CHECK (connections >= 0),
  seen_at timestamptz NOT NULL,
  PRIMARY KEY (game_id, user_id, instance_id)
);

-- Down Migration

DROP TABLE game_presence;
DROP TABLE moves;
DROP TABLE games;
