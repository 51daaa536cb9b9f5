/**
 * A digest of everything a request could change that matters: accounts, games, moves and the admin
 * log. Two equal digests mean nothing changed. Sessions and rate-limit counters are left out on
 * purpose: visitors get a session for their CSRF token, and refused logins are counted.
 */
import type { Pool } from 'pg';

export interface StateSnapshot {
  users: string;
  games: string;
  moves: string;
  adminActions: number;
  counts: { users: number; games: number; moves: number; versions: number };
}

export async function snapshot(db: Pool): Promise<StateSnapshot> {
  const { rows } = await db.query<StateSnapshot & { userCount: number; gameCount: number; moveCount: number; versions: number }>(
    `SELECT
       md5(coalesce((SELECT string_agg(concat_ws('|', id, username, password_hash, is_active, is_admin, sessions_valid_after,
                                                  deleted_at), ',' ORDER BY id) FROM users), '')
           || coalesce((SELECT string_agg(concat_ws('|', user_id, variant, rating, rated_games), ',' ORDER BY user_id, variant) FROM ratings), '')) AS users,
       md5(coalesce((SELECT string_agg(concat_ws('|', id, variant, status, result, reason, board, ply, version, player_x, player_o,
                                                  rematch_offered_by, rematch_id), ',' ORDER BY id) FROM games), '')) AS games,
       md5(coalesce((SELECT string_agg(concat_ws('|', game_id, ply, cell, mark, player_id), ',' ORDER BY game_id, ply) FROM moves), '')) AS moves,
       (SELECT count(*)::int FROM admin_actions) AS "adminActions",
       (SELECT count(*)::int FROM users) AS "userCount",
       (SELECT count(*)::int FROM games) AS "gameCount",
       (SELECT count(*)::int FROM moves) AS "moveCount",
       (SELECT coalesce(sum(version), 0)::int FROM games) AS versions`,
  );
  const row = rows[0]!;
  return {
    users: row.users,
    games: row.games,
    moves: row.moves,
    adminActions: row.adminActions,
    counts: { users: row.userCount, games: row.gameCount, moves: row.moveCount, versions: row.versions },
  };
}
