/** All SQL for games, moves and presence. Times go in and out as milliseconds since the epoch. */
import type { Pool, PoolClient } from 'pg';
import type { EndReason, FinalResult, GameMode, GameState, GameStatus } from './model.js';
import { PAGE_PRESENCE_MS } from './presence.js';
import { GAME_COLUMNS, GAME_FROM, ms, seatName, type GameRow } from './row.js';
import type { Mark } from './variants/types.js';

type Db = Pool | PoolClient;

const at = (time: number) => new Date(time);

/** A player counts as connected while an instance refreshes their row (every 10 s) within this. */
export const PRESENCE_STALE_MS = 30_000;
/** The presence rows of page loads (play without JavaScript) use this in place of an instance id. */
const PAGE_INSTANCE = 'page';

/** Reads a game without a lock (a move's own update is guarded). */
export async function findGame(db: Db, id: string): Promise<GameRow | undefined> {
  const { rows } = await db.query<GameRow>({ name: 'find-game', text: `SELECT ${GAME_COLUMNS} FROM ${GAME_FROM} WHERE g.id = $1`, values: [id] });
  return rows[0];
}

/** Reads a game and holds its row until the transaction ends, so changes to it take turns. */
export async function lockGame(tx: PoolClient, id: string): Promise<GameRow | undefined> {
  const { rows } = await tx.query<GameRow>({ name: 'lock-game', text: `SELECT ${GAME_COLUMNS} FROM ${GAME_FROM} WHERE g.id = $1 FOR UPDATE OF g`, values: [id] });
  return rows[0];
}

/** A game as created: the seats and mode of a locked game, plus how it starts. */
export interface NewGame extends Pick<GameRow, 'id' | 'variant' | 'mode' | 'aiLevel' | 'aiMark' | 'createdBy' | 'playerX' | 'playerO' | 'board'> {
  status: 'waiting' | 'active';
  rematchOf: string | null;
  now: number;
}

export async function insertGame(tx: Db, game: NewGame): Promise<void> {
  await tx.query(
    `INSERT INTO games (id, variant, board, mode, ai_level, ai_mark, created_by, player_x, player_o, status, rematch_of,
                        turn_started_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12)`,
    [game.id, game.variant, game.board, game.mode, game.aiLevel, game.aiMark, game.createdBy, game.playerX, game.playerO, game.status,
      game.rematchOf, at(game.now)],
  );
}

export interface NewMove {
  cell: number;
  mark: Mark;
  playerId: number | null;
}

export interface AfterMoves {
  board: string;
  status: GameStatus;
  result: FinalResult | null;
  reason: EndReason | null;
}

/** What recording moves returns: the game's new version and its players' presence as of the write. */
export interface Recorded {
  version: number;
  xAwaySince: number | null;
  oAwaySince: number | null;
}

/**
 * Records moves made from `fromPly` (a human move and maybe the computer's answer) and the game
 * they lead to, in one statement: the update of the game row happens only if the game is still
 * active at `fromPly`, and the moves are inserted only if it did. Of two concurrent moves at the
 * same ply, the second waits for the first's row lock, re-checks, and changes nothing. Returns
 * undefined if the game had moved on.
 */
export async function recordMoves(
  db: Db,
  gameId: string,
  fromPly: number,
  moves: NewMove[],
  after: AfterMoves,
  now: number,
): Promise<Recorded | undefined> {
  const values: unknown[] = [gameId, fromPly, after.board, moves.length, after.status, after.result, after.reason, at(now), at(now - PRESENCE_STALE_MS)];
  const rows = moves.map((move, i) => {
    values.push(fromPly + i + 1, move.cell, move.mark, move.playerId);
    const p = values.length;
    return `($${p - 3}::smallint, $${p - 2}::smallint, $${p - 1}::char(1), $${p}::integer)`;
  });
  const { rows: updated } = await db.query<Recorded>({
    name: `record-moves-${moves.length}`,
    text: `WITH game AS (
       UPDATE games
          SET board = $3, ply = $2 + $4, version = version + 1, status = $5, result = $6, reason = $7,
              turn_started_at = $8, updated_at = $8, finished_at = CASE WHEN $5 = 'finished' THEN $8::timestamptz END
        WHERE id = $1 AND ply = $2 AND status = 'active'
       RETURNING id, variant, version, player_x, player_o, created_at
     ), inserted AS (
       INSERT INTO moves (game_id, variant, ply, cell, mark, player_id, created_at)
       SELECT game.id, game.variant, m.ply, m.cell, m.mark, m.player_id, $8 FROM game, (VALUES ${rows.join(', ')}) AS m (ply, cell, mark, player_id)
     )
     SELECT g.version, ${awaySince('player_x', '$9')} AS "xAwaySince", ${awaySince('player_o', '$9')} AS "oAwaySince" FROM game g`,
    values,
  });
  return updated[0];
}

/** Ends an active or waiting game without a move (resign, claim, cancel, expiry). */
export async function endGame(
  tx: Db,
  gameId: string,
  ending: { status: 'finished' | 'aborted'; result: FinalResult | null; reason: EndReason },
  now: number,
): Promise<number> {
  const { rows } = await tx.query<{ version: number }>(
    `UPDATE games SET status = $2, result = $3, reason = $4, version = version + 1, updated_at = $5, finished_at = $5
      WHERE id = $1 RETURNING version`,
    [gameId, ending.status, ending.result, ending.reason, at(now)],
  );
  return rows[0]!.version;
}

/**
 * Seats the user in the empty seat of a waiting game that is not theirs and not expired. One
 * statement, so of two people joining at once exactly one gets the seat.
 */
export async function takeSeat(
  db: Db,
  gameId: string,
  userId: number,
  now: number,
  createdAfter: number,
): Promise<{ version: number; playerX: number; playerO: number } | undefined> {
  const { rows } = await db.query<{ version: number; playerX: number; playerO: number }>(
    `UPDATE games
        SET player_x = coalesce(player_x, $2), player_o = coalesce(player_o, $2), status = 'active',
            version = version + 1, turn_started_at = $3, updated_at = $3
      WHERE id = $1 AND status = 'waiting' AND mode <> 'ai' AND created_at > $4
        AND player_x IS DISTINCT FROM $2 AND player_o IS DISTINCT FROM $2
     RETURNING version, player_x AS "playerX", player_o AS "playerO"`,
    [gameId, userId, at(now), at(createdAfter)],
  );
  return rows[0];
}

/** Whether every one of the users can still play (active, not deleted). */
export async function allActive(db: Db, userIds: number[]): Promise<boolean> {
  const { rows } = await db.query<{ active: number }>(
    'SELECT count(*)::int AS active FROM users WHERE id = ANY($1::int[]) AND is_active AND deleted_at IS NULL',
    [userIds],
  );
  return rows[0]!.active === userIds.length;
}

export async function setRematchOffer(tx: Db, gameId: string, userId: number, now: number): Promise<number> {
  const { rows } = await tx.query<{ version: number }>(
    `UPDATE games SET rematch_offered_by = $2, version = version + 1, updated_at = $3 WHERE id = $1 RETURNING version`,
    [gameId, userId, at(now)],
  );
  return rows[0]!.version;
}

export async function linkRematch(tx: Db, gameId: string, nextId: string, now: number): Promise<number> {
  const { rows } = await tx.query<{ version: number }>(
    `UPDATE games SET rematch_id = $2, version = version + 1, updated_at = $3 WHERE id = $1 RETURNING version`,
    [gameId, nextId, at(now)],
  );
  return rows[0]!.version;
}

/** A waiting game that was aborted, as its announcement needs it. */
export interface AbortedGame {
  id: string;
  version: number;
  createdBy: number;
  mode: GameMode;
}

/** Aborts friend and open games that nobody joined in time; returns what changed. */
export async function expireWaitingGames(db: Db, createdBefore: number, now: number): Promise<AbortedGame[]> {
  const { rows } = await db.query<AbortedGame>(
    `UPDATE games SET status = 'aborted', reason = 'expired', version = version + 1, updated_at = $2, finished_at = $2
      WHERE status = 'waiting' AND created_at <= $1
     RETURNING id, version, created_by AS "createdBy", mode`,
    [at(createdBefore), at(now)],
  );
  return rows;
}

/** Calls off the games nobody joined that the user created (their account is deleted or deactivated). */
export async function callOffWaitingGames(db: Db, userId: number, now: number): Promise<AbortedGame[]> {
  const { rows } = await db.query<AbortedGame>(
    `UPDATE games SET status = 'aborted', reason = 'cancelled', version = version + 1, updated_at = $2, finished_at = $2
      WHERE status = 'waiting' AND created_by = $1
     RETURNING id, version, created_by AS "createdBy", mode`,
    [userId, at(now)],
  );
  return rows;
}

/** A game with what its page shows besides the row: the moves, each seat's presence, the analysis. */
interface StateRow extends GameRow {
  moves: number[];
  analysis: GameState['analysis'];
  xAwaySince: number | null;
  oAwaySince: number | null;
}

/**
 * When the seat's player is away from (see presence.ts): NULL while an instance holds a live socket
 * of theirs; otherwise the later of when their last socket closed (or its instance stopped
 * refreshing it) and when their last page load's presence ends, which may be in the future.
 */
const awaySince = (seat: string, staleBefore = '$2') => `(
  SELECT CASE WHEN coalesce(bool_or(p.instance_id <> '${PAGE_INSTANCE}' AND p.connections > 0 AND p.seen_at > ${staleBefore}), false) THEN NULL
              ELSE ${ms(`greatest(coalesce(max(p.seen_at) FILTER (WHERE p.instance_id <> '${PAGE_INSTANCE}'), g.created_at),
                                  max(p.seen_at) FILTER (WHERE p.instance_id = '${PAGE_INSTANCE}') + interval '${PAGE_PRESENCE_MS} milliseconds')`)} END
    FROM game_presence p WHERE p.game_id = g.id AND p.user_id = g.${seat})`;

/** The whole state of a game in one query: row, names, moves and presence. */
export async function readGameState(db: Db, id: string, now: number): Promise<StateRow | undefined> {
  const { rows } = await db.query<StateRow>({
    name: 'game-state',
    text: `SELECT ${GAME_COLUMNS},
            array(SELECT m.cell FROM moves m WHERE m.game_id = g.id ORDER BY m.ply) AS moves,
            (SELECT json_build_object('best', a.best, 'played', a.played) FROM game_analysis a WHERE a.game_id = g.id) AS analysis,
            ${awaySince('player_x')} AS "xAwaySince", ${awaySince('player_o')} AS "oAwaySince"
       FROM ${GAME_FROM}
      WHERE g.id = $1`,
    values: [id, at(now - PRESENCE_STALE_MS)],
  });
  return rows[0];
}

export type { StateRow };

// Presence -------------------------------------------------------------------------------------

/** How many live sockets an instance holds of a user on a game. */
export interface PresenceRow {
  gameId: string;
  userId: number;
  instanceId: string;
  connections: number;
  now: number;
}

/** This instance now holds `connections` live sockets of the user on the game. */
export function setPresence(db: Db, instanceId: string, gameId: string, userId: number, connections: number, now: number) {
  return savePresence(db, [{ gameId, userId, instanceId, connections, now }]);
}

/** Several presence changes in one statement; of two for the same row, the later one wins. */
export async function savePresence(db: Db, changes: PresenceRow[]) {
  const latest = new Map(changes.map((c) => [`${c.gameId}:${c.userId}:${c.instanceId}`, c]));
  const rows = [...latest.values()];
  await db.query({
    name: 'save-presence',
    text: `INSERT INTO game_presence (game_id, user_id, instance_id, connections, seen_at)
     SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::integer[], $5::timestamptz[])
     ON CONFLICT (game_id, user_id, instance_id) DO UPDATE SET connections = EXCLUDED.connections, seen_at = EXCLUDED.seen_at`,
    values: [rows.map((r) => r.gameId), rows.map((r) => r.userId), rows.map((r) => r.instanceId), rows.map((r) => r.connections), rows.map((r) => at(r.now))],
  });
}

/** A player of the game loaded its page: they count as present for PAGE_PRESENCE_MS from `now`. */
export async function savePagePresence(db: Db, gameId: string, userId: number, now: number): Promise<void> {
  await db.query({
    name: 'save-page-presence',
    text: `INSERT INTO game_presence (game_id, user_id, instance_id, connections, seen_at) VALUES ($1, $2, '${PAGE_INSTANCE}', 0, $3)
     ON CONFLICT (game_id, user_id, instance_id) DO UPDATE SET seen_at = greatest(game_presence.seen_at, EXCLUDED.seen_at)`,
    values: [gameId, userId, at(now)],
  });
}

/**
 * An instance's periodic presence write: its live counts (`rows`) are saved with the time, and its
 * other rows that still count sockets are zeroed. Whatever an earlier write lost (a failed save
 * when a socket closed) is repaired here.
 */
export async function refreshPresence(db: Db, instanceId: string, rows: PresenceRow[], now: number) {
  if (rows.length > 0) await savePresence(db, rows);
  await db.query(
    `UPDATE game_presence SET connections = 0
      WHERE instance_id = $1 AND connections > 0 AND seen_at < $2`,
    [instanceId, at(now)],
  );
}

/**
 * Zeroes the rows of instances that stopped refreshing them (stopped or killed), so that their
 * players count as gone from their last refresh on. Returns the games whose players changed.
 */
export async function endStalePresence(db: Db, now: number): Promise<string[]> {
  const { rows } = await db.query<{ gameId: string }>(
    `UPDATE game_presence SET connections = 0
      WHERE connections > 0 AND instance_id <> '${PAGE_INSTANCE}' AND seen_at <= $1
     RETURNING game_id AS "gameId"`,
    [at(now - PRESENCE_STALE_MS)],
  );
  return [...new Set(rows.map((r) => r.gameId))];
}

export async function forgetOldPresence(db: Db, before: number) {
  await db.query(`DELETE FROM game_presence WHERE seen_at < $1`, [at(before)]);
}

export function toGameState(row: StateRow, waitingExpiresMs: number): GameState {
  const seat = (mark: Mark) => {
    const name = seatName(row, mark);
    return name === null ? null : { id: mark === 'X' ? row.playerX : row.playerO, name };
  };
  return {
    id: row.id,
    variant: row.variant,
    mode: row.mode,
    aiLevel: row.aiLevel,
    status: row.status,
    result: row.result,
    reason: row.reason,
    board: row.board,
    ply: row.ply,
    version: row.version,
    createdBy: row.createdBy,
    players: { X: seat('X'), O: seat('O') },
    moves: row.moves.map(Number),
    awaySince: { X: row.playerX === null ? null : row.xAwaySince, O: row.playerO === null ? null : row.oAwaySince },
    turnStartedAt: row.turnStartedAt,
    expiresAt: row.status === 'waiting' ? row.createdAt + waitingExpiresMs : null,
    rematch: { offeredBy: row.rematchOfferedBy, nextId: row.rematchId },
    analysis: row.analysis,
  };
}

// Analysis ------------------------------------------------------------------------------------

/** What analysing a game needs: its variant, whether it is finished and analysed, its moves. */
export async function analysisInput(db: Db, id: string) {
  const { rows } = await db.query<{ variant: GameRow['variant']; status: GameStatus; analysed: boolean; moves: number[] }>(
    `SELECT g.variant, g.status, EXISTS (SELECT 1 FROM game_analysis a WHERE a.game_id = g.id) AS analysed,
            array(SELECT m.cell FROM moves m WHERE m.game_id = g.id ORDER BY m.ply) AS moves
       FROM games g WHERE g.id = $1`,
    [id],
  );
  return rows[0];
}

/** Stores a game's analysis once; false if another instance stored it first. */
export async function saveAnalysis(db: Db, id: string, analysis: NonNullable<GameState['analysis']>, iterations: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO game_analysis (game_id, best, played, iterations) VALUES ($1, $2, $3, $4) ON CONFLICT (game_id) DO NOTHING`,
    [id, analysis.best, analysis.played, iterations],
  );
  return rowCount === 1;
}
