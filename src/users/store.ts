/** SQL for players: ratings, profiles, leaderboard. */
import type { Pool, PoolClient } from 'pg';
import type { Rating } from './ratings.js';
import { GAME_COLUMNS, GAME_FROM, type GameRow } from '../game/row.js';

type Db = Pool | PoolClient;

/** Both players' ratings, locked in id order (so two games ending at once cannot deadlock). */
export async function lockRatings(tx: PoolClient, ids: [number, number]): Promise<Map<number, Rating>> {
  const { rows } = await tx.query<Rating & { id: number }>(
    `SELECT id, rating, rating_deviation AS deviation, rating_volatility AS volatility
       FROM users WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE`,
    [ids],
  );
  return new Map(rows.map(({ id, ...rating }) => [id, rating]));
}

export async function saveRating(tx: PoolClient, id: number, rating: Rating): Promise<void> {
  await tx.query(
    `UPDATE users SET rating = $2, rating_deviation = $3, rating_volatility = $4, rated_games = rated_games + 1 WHERE id = $1`,
    [id, rating.rating, rating.deviation, rating.volatility],
  );
}

export async function saveRatingChanges(tx: PoolClient, gameId: string, x: number, o: number): Promise<void> {
  await tx.query(`UPDATE games SET x_rating_change = $2, o_rating_change = $3 WHERE id = $1`, [gameId, x, o]);
}

export interface Profile {
  id: number;
  username: string;
  rating: number;
  deviation: number;
  ratedGames: number;
  createdAt: Date;
  isActive: boolean;
}

export async function findProfile(db: Db, username: string): Promise<Profile | undefined> {
  const { rows } = await db.query<Profile>(
    `SELECT id, username, rating, rating_deviation AS deviation, rated_games AS "ratedGames",
            created_at AS "createdAt", is_active AS "isActive"
       FROM users WHERE lower(username) = lower($1) AND deleted_at IS NULL`,
    [username],
  );
  return rows[0];
}

export interface Record {
  wins: number;
  losses: number;
  draws: number;
}

/** Wins, losses and draws of finished games, against people and against the computer. */
export async function recordOf(db: Db, userId: number): Promise<{ people: Record; computer: Record }> {
  const { rows } = await db.query<Record & { vsComputer: boolean }>(
    `SELECT g.mode = 'ai' AS "vsComputer",
            count(*) FILTER (WHERE (g.result = 'x_won') = (g.player_x IS NOT DISTINCT FROM $1) AND g.result <> 'draw')::int AS wins,
            count(*) FILTER (WHERE (g.result = 'x_won') <> (g.player_x IS NOT DISTINCT FROM $1) AND g.result <> 'draw')::int AS losses,
            count(*) FILTER (WHERE g.result = 'draw')::int AS draws
       FROM games g
      WHERE g.status = 'finished' AND (g.player_x = $1 OR g.player_o = $1)
      GROUP BY 1`,
    [userId],
  );
  const empty = { wins: 0, losses: 0, draws: 0 };
  const pick = (vsComputer: boolean) => {
    const row = rows.find((r) => r.vsComputer === vsComputer);
    return row ? { wins: row.wins, losses: row.losses, draws: row.draws } : empty;
  };
  return { people: pick(false), computer: pick(true) };
}

/** Finished games, newest first, one page at a time (one extra row says whether more follow). */
export async function finishedGames(db: Db, userId: number, limit: number, offset: number): Promise<GameRow[]> {
  const { rows } = await db.query<GameRow>(
    `SELECT ${GAME_COLUMNS} FROM ${GAME_FROM}
      WHERE g.status = 'finished' AND (g.player_x = $1 OR g.player_o = $1)
      ORDER BY g.finished_at DESC, g.id
      LIMIT $2 OFFSET $3`,
    [userId, limit, offset],
  );
  return rows;
}

export interface LeaderboardRow {
  username: string;
  rating: number;
  deviation: number;
  ratedGames: number;
}

/** Players with at least one rated game, best first. */
export async function leaderboard(db: Db, limit: number): Promise<LeaderboardRow[]> {
  const { rows } = await db.query<LeaderboardRow>(
    `SELECT username, rating, rating_deviation AS deviation, rated_games AS "ratedGames"
       FROM users
      WHERE deleted_at IS NULL AND is_active AND rated_games > 0
      ORDER BY rating DESC, username
      LIMIT $1`,
    [limit],
  );
  return rows;
}
