/**
 * One row of `games` as every feature reads it (game service, lobby, profile): one column list,
 * one row type, and the questions every reader asks of it (whose seat, whose turn, who won, what
 * a seat is called). Times are milliseconds since the epoch.
 */
import { computerName, type FinalResult, type GameState } from './model.js';
import type { Mark } from './variants/types.js';

/** The columns of a game that its wire state (GameState) also has, plus what only the row holds. */
export interface GameRow extends Pick<GameState, 'id' | 'variant' | 'mode' | 'aiLevel' | 'createdBy' | 'status' | 'result' | 'reason' | 'board' | 'ply' | 'version' | 'turnStartedAt'> {
  aiMark: Mark | null;
  playerX: number | null;
  playerO: number | null;
  /** The seats' account names as shown ("deleted user" for a deleted account), or null. */
  xName: string | null;
  oName: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  rematchOfferedBy: number | null;
  rematchId: string | null;
  /** Each seat's rating change from this game (rated games only). */
  xRatingChange: number | null;
  oRatingChange: number | null;
}

/** A timestamptz column as milliseconds. Only ever given fixed column names, never input. */
export const ms = (column: string) => `(extract(epoch FROM ${column}) * 1000)::float8`;

/** The name a deleted account's games show (no username can be this: it has a space). */
export const DELETED_NAME = 'deleted user';
/** A player's name as shown: a deleted account keeps its games under DELETED_NAME. */
export const displayName = (alias: string) => `CASE WHEN ${alias}.deleted_at IS NULL THEN ${alias}.username ELSE '${DELETED_NAME}' END`;

/** The select list of a GameRow, over `games g` joined by GAME_FROM. */
export const GAME_COLUMNS = `g.id, g.variant, g.mode, g.ai_level AS "aiLevel", g.ai_mark AS "aiMark", g.created_by AS "createdBy",
  g.player_x AS "playerX", g.player_o AS "playerO", ${displayName('ux')} AS "xName", ${displayName('uo')} AS "oName",
  g.status, g.result, g.reason, g.board, g.ply, g.version,
  ${ms('g.turn_started_at')} AS "turnStartedAt", ${ms('g.created_at')} AS "createdAt", ${ms('g.updated_at')} AS "updatedAt",
  ${ms('g.finished_at')} AS "finishedAt", g.rematch_offered_by AS "rematchOfferedBy", g.rematch_id AS "rematchId",
  g.x_rating_change AS "xRatingChange", g.o_rating_change AS "oRatingChange"`;

/** The tables a GameRow is read from. */
export const GAME_FROM = `games g LEFT JOIN users ux ON ux.id = g.player_x LEFT JOIN users uo ON uo.id = g.player_o`;

type Seats = Pick<GameRow, 'playerX' | 'playerO'>;

/** The seat the user plays in, or null for anyone else (and for a signed-out visitor). */
export function seatOf(game: Seats, userId: number | null | undefined): Mark | null {
  if (userId == null) return null;
  if (game.playerX === userId) return 'X';
  if (game.playerO === userId) return 'O';
  return null;
}

/** The user ids of a game's human players. */
export function playerIds(game: Seats): number[] {
  return [game.playerX, game.playerO].filter((id): id is number => id !== null);
}

/** The seat to move after `ply` moves: X moves first. */
export function moverAt(ply: number): Mark {
  return ply % 2 === 0 ? 'X' : 'O';
}

/** A finished game's result from one seat's side; null while it is not finished. */
export function outcomeFor(result: FinalResult | null, seat: Mark): 'won' | 'lost' | 'draw' | null {
  if (result === null) return null;
  if (result === 'draw') return 'draw';
  return (result === 'x_won') === (seat === 'X') ? 'won' : 'lost';
}

/** What a seat is called: its player's name, the computer's, or null while nobody took it. */
export function seatName(game: Pick<GameRow, 'xName' | 'oName' | 'aiMark' | 'aiLevel'>, seat: Mark): string | null {
  const name = seat === 'X' ? game.xName : game.oName;
  if (name !== null) return name;
  return game.aiMark === seat && game.aiLevel ? computerName(game.aiLevel) : null;
}
