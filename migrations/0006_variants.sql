-- Up Migration

-- Every game is of one variant (src/game/variants); the games so far are all classic. Board,
-- ply, move and level checks become per variant. The variant is also on each move, through a
-- foreign key to the game's (id, variant), so a move's cell is checked against its own board.
ALTER TABLE games ADD COLUMN variant text NOT NULL DEFAULT 'classic'
  CHECK (variant IN ('classic', 'ultimate', 'misere'));
ALTER TABLE games ALTER COLUMN variant DROP DEFAULT;
ALTER TABLE games ADD CONSTRAINT games_id_variant_key UNIQUE (id, variant);

-- Classic and misère: 9 cells. Ultimate: 81 cells and the small board to play in ('-': any).
ALTER TABLE games ALTER COLUMN board DROP DEFAULT, ALTER COLUMN board TYPE text,
  DROP CONSTRAINT games_board_check, ADD CONSTRAINT games_board_check CHECK (CASE variant
    WHEN 'ultimate' THEN board ~ '^[XO.]{81}[0-8-]$' ELSE board ~ '^[XO.]{9}$' END);
ALTER TABLE games DROP CONSTRAINT games_ply_check, ADD CONSTRAINT games_ply_check
  CHECK (ply >= 0 AND ply <= CASE variant WHEN 'ultimate' THEN 81 ELSE 9 END);
-- Perfect where the game is solved, Hard (a search) where it is not.
ALTER TABLE games DROP CONSTRAINT games_ai_level_check, ADD CONSTRAINT games_ai_level_check
  CHECK (ai_level IN ('easy', 'medium', CASE variant WHEN 'ultimate' THEN 'hard' ELSE 'perfect' END));
-- 'blocked': Ultimate drawn early, when no line of small boards can be completed any more.
ALTER TABLE games DROP CONSTRAINT games_reason_check, ADD CONSTRAINT games_reason_check
  CHECK (reason IN ('line', 'full', 'blocked', 'resigned', 'abandoned', 'expired', 'cancelled'));

ALTER TABLE moves ADD COLUMN variant text NOT NULL DEFAULT 'classic';
ALTER TABLE moves ALTER COLUMN variant DROP DEFAULT,
  DROP CONSTRAINT moves_game_id_fkey,
  ADD CONSTRAINT moves_game_fkey FOREIGN KEY (game_id, variant) REFERENCES games (id, variant) ON DELETE CASCADE,
  DROP CONSTRAINT moves_ply_check, ADD CONSTRAINT moves_ply_check
    CHECK (ply >= 1 AND ply <= CASE variant WHEN 'ultimate' THEN 81 ELSE 9 END),
  DROP CONSTRAINT moves_cell_check, ADD CONSTRAINT moves_cell_check
    CHECK (cell >= 0 AND cell < CASE variant WHEN 'ultimate' THEN 81 ELSE 9 END);

-- Glicko-2 ratings per variant: a row once a player's first rated game of it ends.
CREATE TABLE ratings (
  user_id integer NOT NULL REFERENCES users (id),
  variant text NOT NULL CHECK (variant IN ('classic', 'ultimate', 'misere')),
  rating double precision NOT NULL DEFAULT 1500,
  rating_deviation double precision NOT NULL DEFAULT 350,
  rating_volatility double precision NOT NULL DEFAULT 0.06,
  rated_games integer NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, variant)
);
CREATE INDEX ratings_leaderboard_idx ON ratings (variant, rating DESC) WHERE rated_games > 0;
INSERT INTO ratings (user_id, variant, rating, rating_deviation, rating_volatility, rated_games)
  SELECT id, 'classic', rating, rating_deviation, rating_volatility, rated_games FROM users WHERE rated_games > 0;
DROP INDEX users_rating_idx;
ALTER TABLE users DROP COLUMN rating, DROP COLUMN rating_deviation, DROP COLUMN rating_volatility, DROP COLUMN rated_games;

-- Ultimate's post-game analysis (the engine's, computed after the game in its worker pool): for
-- each move, in order, the mover's expected score (win 1, draw ½) with the engine's best move and
-- with the move played.
CREATE TABLE game_analysis (
  game_id text PRIMARY KEY REFERENCES games (id) ON DELETE CASCADE,
  best real[] NOT NULL,
  played real[] NOT NULL CHECK (cardinality(played) = cardinality(best)),
  iterations integer NOT NULL CHECK (iterations > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration

DROP TABLE game_analysis;
ALTER TABLE users
  ADD COLUMN rating double precision NOT NULL DEFAULT 1500,
  ADD COLUMN rating_deviation double precision NOT NULL DEFAULT 350,
  ADD COLUMN rating_volatility double precision NOT NULL DEFAULT 0.06,
  ADD COLUMN rated_games integer NOT NULL DEFAULT 0;
UPDATE users u SET rating = r.rating, rating_deviation = r.rating_deviation,
    rating_volatility = r.rating_volatility, rated_games = r.rated_games
  FROM ratings r WHERE r.user_id = u.id AND r.variant = 'classic';
CREATE INDEX users_rating_idx ON users (rating DESC) WHERE deleted_at IS NULL AND rated_games > 0;
DROP TABLE ratings;
-- Games of other variants cannot be kept in the classic-only schema.
DELETE FROM games WHERE variant <> 'classic';
ALTER TABLE moves DROP CONSTRAINT moves_game_fkey,
  ADD CONSTRAINT moves_game_id_fkey FOREIGN KEY (game_id) REFERENCES games (id) ON DELETE CASCADE,
  DROP CONSTRAINT moves_ply_check, ADD CONSTRAINT moves_ply_check CHECK (ply BETWEEN 1 AND 9),
  DROP CONSTRAINT moves_cell_check, ADD CONSTRAINT moves_cell_check CHECK (cell BETWEEN 0 AND 8),
  DROP COLUMN variant;
ALTER TABLE games DROP CONSTRAINT games_reason_check, ADD CONSTRAINT games_reason_check
  CHECK (reason IN ('line', 'full', 'resigned', 'abandoned', 'expired', 'cancelled'));
ALTER TABLE games DROP CONSTRAINT games_ai_level_check, ADD CONSTRAINT games_ai_level_check
  CHECK (ai_level IN ('easy', 'medium', 'perfect'));
ALTER TABLE games DROP CONSTRAINT games_ply_check, ADD CONSTRAINT games_ply_check CHECK (ply BETWEEN 0 AND 9);
ALTER TABLE games DROP CONSTRAINT games_board_check,
  ALTER COLUMN board TYPE char(9), ALTER COLUMN board SET DEFAULT '.........',
  ADD CONSTRAINT games_board_check CHECK (board ~ '^[XO.]{9}$');
ALTER TABLE games DROP CONSTRAINT games_id_variant_key, DROP COLUMN variant;
