/**
 * The game log checked against itself: whatever happened (races, crashes, restarts), a game's row
 * and its moves must tell one story. Used by the race, crash, restart and soak checks.
 */
import type { Pool, PoolClient } from 'pg';

/** The eight winning lines, written out here rather than imported from the rules, so that tests check the rules against an independent copy. */
export const WINNING_LINES = [
  [0, 1, 2],
  [3, 4, 5],
  [6, 7, 8],
  [0, 3, 6],
  [1, 4, 7],
  [2, 5, 8],
  [0, 4, 8],
  [2, 4, 6],
] as const;

export function winnerOf(board: string): 'X' | 'O' | null {
  for (const [a, b, c] of WINNING_LINES) {
    const mark = board[a];
    if ((mark === 'X' || mark === 'O') && board[b] === mark && board[c] === mark) return mark;
  }
  return null;
}

export interface GameRow {
  id: string;
  mode: string;
  status: string;
  result: string | null;
  reason: string | null;
  board: string;
  ply: number;
  version: number;
  playerX: number | null;
  playerO: number | null;
  aiMark: string | null;
  xRatingChange: number | null;
  oRatingChange: number | null;
  rematchId: string | null;
}

export interface MoveRow {
  ply: number;
  cell: number;
  mark: 'X' | 'O';
  playerId: number | null;
}

type Db = Pool | PoolClient | { query: Pool['query'] };

export async function readGame(db: Db, id: string): Promise<{ game: GameRow; moves: MoveRow[] }> {
  const { rows } = await db.query<GameRow>(
    `SELECT id, mode, status, result, reason, board, ply, version, player_x AS "playerX", player_o AS "playerO",
            ai_mark AS "aiMark", x_rating_change AS "xRatingChange", o_rating_change AS "oRatingChange",
            rematch_id AS "rematchId"
       FROM games WHERE id = $1`,
    [id],
  );
  if (!rows[0]) throw new Error(`no game ${id}`);
  const moves = await db.query<MoveRow>(
    `SELECT ply, cell, mark, player_id AS "playerId" FROM moves WHERE game_id = $1 ORDER BY ply`,
    [id],
  );
  return { game: rows[0], moves: moves.rows };
}

/**
 * Every problem with one game's log, as sentences (empty when consistent): plies 1..n contiguous,
 * marks alternating from X, each move by the player of its mark, the board equal to the moves
 * replayed, no move after the end, and the status, result and reason agreeing with the board.
 */
export function problemsOf({ game, moves }: { game: GameRow; moves: MoveRow[] }): string[] {
  const problems: string[] = [];
  const board = Array<string>(9).fill('.');
  let endedAt: number | null = null;
  moves.forEach((move, i) => {
    const expectedMark = i % 2 === 0 ? 'X' : 'O';
    if (move.ply !== i + 1) problems.push(`move ${i + 1} has ply ${move.ply}`);
    if (move.mark !== expectedMark) problems.push(`ply ${move.ply} is ${move.mark}, expected ${expectedMark}`);
    if (board[move.cell] !== '.') problems.push(`ply ${move.ply} plays the taken cell ${move.cell}`);
    if (endedAt !== null) problems.push(`ply ${move.ply} was played after the game ended at ply ${endedAt}`);
    const seat = move.mark === 'X' ? game.playerX : game.playerO;
    const byComputer = game.aiMark === move.mark && move.playerId === null;
    if (!byComputer && move.playerId !== seat) problems.push(`ply ${move.ply} (${move.mark}) by user ${move.playerId}, seat holds ${seat}`);
    board[move.cell] = move.mark;
    if (endedAt === null && (winnerOf(board.join('')) || i === 8)) endedAt = move.ply;
  });
  const replayed = board.join('');
  if (game.board !== replayed) problems.push(`board ${game.board} but the moves replay to ${replayed}`);
  if (game.ply !== moves.length) problems.push(`ply ${game.ply} but ${moves.length} moves`);
  const winner = winnerOf(replayed);
  if (game.status === 'active' || game.status === 'waiting') {
    if (game.result !== null) problems.push(`${game.status} game has result ${game.result}`);
    if (winner || moves.length === 9) problems.push(`${game.status} game whose board is over (${replayed})`);
  } else if (game.status === 'finished') {
    if (game.reason === 'line') {
      if (!winner) problems.push('finished by a line, but no line on the board');
      else if (game.result !== (winner === 'X' ? 'x_won' : 'o_won')) problems.push(`line of ${winner} but result ${game.result}`);
    } else if (game.reason === 'full') {
      if (winner || moves.length !== 9 || game.result !== 'draw') problems.push(`draw by a full board, but board ${replayed}, result ${game.result}`);
    } else if (game.reason === 'resigned' || game.reason === 'abandoned') {
      if (winner || moves.length === 9) problems.push(`${game.reason} after the board was already over (${replayed})`);
      if (game.result !== 'x_won' && game.result !== 'o_won') problems.push(`${game.reason} with result ${game.result}`);
    } else problems.push(`finished with reason ${game.reason}`);
    const rated = game.mode !== 'ai' && game.playerX !== null && game.playerO !== null;
    if (rated && (game.xRatingChange === null || game.oRatingChange === null)) problems.push('finished rated game without rating changes');
    if (!rated && (game.xRatingChange !== null || game.oRatingChange !== null)) problems.push('unrated game with rating changes');
  } else if (game.status === 'aborted') {
    if (game.result !== null) problems.push(`aborted game has result ${game.result}`);
  } else problems.push(`unknown status ${game.status}`);
  return problems;
}

/** Checks every game in the database; returns the problems keyed by game id. */
export async function problemsInAllGames(db: Db): Promise<Record<string, string[]>> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM games ORDER BY created_at');
  const found: Record<string, string[]> = {};
  for (const { id } of rows) {
    const problems = problemsOf(await readGame(db, id));
    if (problems.length) found[id] = problems;
  }
  return found;
}

/**
 * For a game between two people (no computer), the version counts the changes it went through:
 * created (1), joined (+1), one per move, one for a resignation or a claim, one per rematch
 * offer and one for the rematch link.
 */
export function expectedFriendVersion(game: GameRow, extra = 0): number {
  const ending = game.reason === 'resigned' || game.reason === 'abandoned' ? 1 : 0;
  return 2 + game.ply + ending + extra;
}
