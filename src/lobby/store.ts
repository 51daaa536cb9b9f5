/** SQL for the lobby lists. */
import type { Pool } from 'pg';
import { GAME_COLUMNS, GAME_FROM, type GameRow } from '../game/row.js';

/** Others' open games that can still be joined, newest first. */
export async function openGames(db: Pool, viewerId: number, createdAfter: number): Promise<GameRow[]> {
  const { rows } = await db.query<GameRow>(
    `SELECT ${GAME_COLUMNS} FROM ${GAME_FROM}
      WHERE g.status = 'waiting' AND g.mode = 'open' AND g.created_by <> $1 AND g.created_at > $2
      ORDER BY g.created_at DESC LIMIT 20`,
    [viewerId, new Date(createdAfter)],
  );
  return rows;
}

/** The viewer's games: those still going first, then the most recent finished ones. */
export async function playerGames(db: Pool, viewerId: number): Promise<GameRow[]> {
  const { rows } = await db.query<GameRow>(
    `SELECT ${GAME_COLUMNS} FROM ${GAME_FROM}
      WHERE (g.player_x = $1 OR g.player_o = $1)
      ORDER BY (g.status IN ('waiting', 'active')) DESC, g.updated_at DESC LIMIT 15`,
    [viewerId],
  );
  return rows;
}

/** Games in progress that the viewer does not play in, newest first (moves do not reorder the list). */
export async function liveGames(db: Pool, viewerId: number): Promise<GameRow[]> {
  const { rows } = await db.query<GameRow>(
    `SELECT ${GAME_COLUMNS} FROM ${GAME_FROM}
      WHERE g.status = 'active' AND g.player_x IS DISTINCT FROM $1 AND g.player_o IS DISTINCT FROM $1
      ORDER BY g.created_at DESC LIMIT 15`,
    [viewerId],
  );
  return rows;
}
