/** SQL for players: ratings, profiles, leaderboard. */
import type { Pool, PoolClient } from 'pg';
import type { Rating } from './ratings.js';
import { GAME_COLUMNS, GAME_FROM, type GameRow } from '../game/row.js';
import type { VariantId } from '../game/variants/types.js';

type Db = Pool | PoolClient;

/**
 * Both players' ratings in the variant, locked in id order (so two games ending at once cannot
 * deadlock). A player's first rated game of a variant creates their row at the starting rating.
 */
export async function lockRatings(tx: PoolClient, variant: VariantId, ids: [number, number]): Promise<Map<number, Rating>> {
  const sorted = [...ids].sort((a, b) => a - b);
  await tx.query(
    `INSERT INTO ratings (user_id, variant) SELECT unnest($1::int[]), $2 ORDER BY 1 ON CONFLICT DO NOTHING`,
    [sorted, variant],
  );
  const { rows } = await tx.query<Rating & { id: number }>(
    `SELECT user_id AS id, rating, rating_deviation AS deviation, rating_volatility AS volatility
       FROM ratings WHERE user_id = ANY($1::int[]) AND variant = $2 ORDER BY user_id FOR UPDATE`,
    [sorted, variant],
  );
  return new Map(rows.map(({ id, ...rating }) => [id, rating]));
}

export async function saveRating(tx: PoolClient, variant: VariantId, id: number, rating: Rating): Promise<void> {
  await tx.query(
    `UPDATE ratings SET rating = $3, rating_deviation = $4, rating_volatility = $5, rated_games = rated_games + 1
      WHERE user_id = $1 AND variant = $2`,
    [id, variant, rating.rating, rating.deviation, rating.volatility],
  );
}

export async function saveRatingChanges(tx: PoolClient, gameId: string, x: number, o: number): Promise<void> {
  await tx.query(`UPDATE games SET x_rating_change = $2, o_rating_change = $3 WHERE id = $1`, [gameId, x, o]);
}

export interface Profile {
  id: number;
  username: string;
  createdAt: Date;
  isActive: boolean;
}

export async function findProfile(db: Db, username: string): Promise<Profile | undefined> {
  const { rows } = await db.query<Profile>(
    `SELECT id, username, created_at AS "createdAt", is_active AS "isActive"
       FROM users WHERE lower(username) = lower($1) AND deleted_at IS NULL`,
    [username],
  );
  return rows[0];
}

export interface VariantRating {
  variant: VariantId;
  rating: number;
  deviation: number;
  ratedGames: number;
}

/** The player's rating in each variant they have played rated games of. */
export async function ratingsOf(db: Db, userId: number): Promise<VariantRating[]> {
  const { rows } = await db.query<VariantRating>(
    `SELECT variant, rating, rating_deviation AS deviation, rated_games AS "ratedGames"
       FROM ratings WHERE user_id = $1 AND rated_games > 0`,
    [userId],
  );
  return rows;
}

export interface Record {
  wins: number;
  losses: number;
  draws: number;
}

export interface RecordRow extends Record {
  variant: VariantId;
  vsComputer: boolean;
}

/** Wins, losses and draws of finished games, per variant, against people and against the computer. */
export async function recordOf(db: Db, userId: number): Promise<RecordRow[]> {
  const { rows } = await db.query<RecordRow>(
    `SELECT g.variant, g.mode = 'ai' AS "vsComputer",
            count(*) FILTER (WHERE (g.result = 'x_won') = (g.player_x IS NOT DISTINCT FROM $1) AND g.result <> 'draw')::int AS wins,
            count(*) FILTER (WHERE (g.result = 'x_won') <> (g.player_x IS NOT DISTINCT FROM $1) AND g.result <> 'draw')::int AS losses,
            count(*) FILTER (WHERE g.result = 'draw')::int AS draws
       FROM games g
      WHERE g.status = 'finished' AND (g.player_x = $1 OR g.player_o = $1)
      GROUP BY 1, 2`,
    [userId],
  );
  return rows;
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

/** Players with at least one rated game of the variant, best first. */
export async function leaderboard(db: Db, variant: VariantId, limit: number): Promise<LeaderboardRow[]> {
  const { rows } = await db.query<LeaderboardRow>(
    `SELECT u.username, r.rating, r.rating_deviation AS deviation, r.rated_games AS "ratedGames"
       FROM ratings r JOIN users u ON u.id = r.user_id
      WHERE r.variant = $1 AND r.rated_games > 0 AND u.deleted_at IS NULL AND u.is_active
      ORDER BY r.rating DESC, u.username
      LIMIT $2`,
    [variant, limit],
  );
  return rows;
}
