-- Up Migration

-- The lobby's "Live games" list is ordered newest first (moves no longer reorder it, so that a
-- move does not change everyone's lobby).
DROP INDEX games_active_idx;
CREATE INDEX games_active_idx ON games (created_at DESC) WHERE status = 'active';

-- Down Migration

DROP INDEX games_active_idx;
CREATE INDEX games_active_idx ON games (updated_at DESC) WHERE status = 'active';
