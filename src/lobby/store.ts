/** SQL for the lobby lists. */
import type { Pool } from 'pg';
import type { Level } from '../game/ai.js';
import { displayName } from '../game/store.js';
import type { FinalResult, GameMode, GameStatus } from '../game/model.js';

export interface LobbyGameRow {
  id: string;
  mode: GameMode;
  aiLevel: Level | null;
  aiMark: 'X' | 'O' | null;
  playerX: number | null;
  playerO: number | null;
  xName: string | null;
  oName: string | null;
  status: GameStatus;
  result: FinalResult | null;
  ply: number;
  updatedAt: Date;
}

const COLUMNS = `g.id, g.mode, g.ai_level AS "aiLevel", g.ai_mark AS "aiMark", g.player_x AS "playerX",
  g.player_o AS "playerO", ${displayName('ux')} AS "xName", ${displayName('uo')} AS "oName", g.status, g.result, g.ply,
  g.updated_at AS "updatedAt"
  FROM games g LEFT JOIN users ux ON ux.id = g.player_x LEFT JOIN users uo ON uo.id = g.player_o`;

/** Others' open games that can still be joined, newest first. */
export async function openGames(db: Pool, viewerId: number, createdAfter: number): Promise<LobbyGameRow[]> {
  const { rows } = await db.query<LobbyGameRow>(
    `SELECT ${COLUMNS}
      WHERE g.status = 'waiting' AND g.mode = 'open' AND g.created_by <> $1 AND g.created_at > $2
      ORDER BY g.created_at DESC LIMIT 20`,
    [viewerId, new Date(createdAfter)],
  );
  return rows;
}

/** The viewer's games: those still going first, then the most recent finished ones. */
export async function playerGames(db: Pool, viewerId: number): Promise<LobbyGameRow[]> {
  const { rows } = await db.query<LobbyGameRow>(
    `SELECT ${COLUMNS}
      WHERE (g.player_x = $1 OR g.player_o = $1)
      ORDER BY (g.status IN ('waiting', 'active')) DESC, g.updated_at DESC LIMIT 15`,
    [viewerId],
  );
  return rows;
}

/** Games in progress that the viewer does not play in, most recently active first. */
export async function liveGames(db: Pool, viewerId: number): Promise<LobbyGameRow[]> {
  const { rows } = await db.query<LobbyGameRow>(
    `SELECT ${COLUMNS}
      WHERE g.status = 'active' AND g.player_x IS DISTINCT FROM $1 AND g.player_o IS DISTINCT FROM $1
      ORDER BY g.updated_at DESC LIMIT 15`,
    [viewerId],
  );
  return rows;
}
