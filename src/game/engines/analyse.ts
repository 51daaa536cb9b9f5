/**
 * Ultimate's post-game analysis: for each move, the mover's chances (expected score: win 1, draw
 * ½) with the best move the engine found and with the move played, both from one search of the
 * position before the move, so the engine's own choice loses nothing. One search per move in the
 * worker pool (never on a request), each short and queued on its own, so moves of games in play
 * wait for at most one of them.
 */
import { ultimate } from '../variants/ultimate.js';
import type { EnginePool } from './pool.js';

/** Iterations per position: about 40 ms of a worker here, enough for a stable estimate. */
export const ANALYSIS_ITERATIONS = 8_000;

/** Per move, from the mover's side: chances with the engine's best move and with the move played. */
export interface MoveAnalysis {
  best: number[];
  played: number[];
}

/** X's score in a finished position, or null while it runs. */
function finalScore(p: ReturnType<typeof ultimate.start>): number | null {
  const result = ultimate.result(p);
  if (result === 'in_progress') return null;
  return result === 'x_won' ? 1 : result === 'o_won' ? 0 : 0.5;
}

/**
 * The analysis of `moves` (cells), or null when `signal` aborts it (the server is stopping).
 * When the search barely tried the move played, its value is the next position's, seen from the
 * other side (or the exact result once the game is over).
 */
export async function analyseUltimate(pool: EnginePool, moves: readonly number[], signal?: AbortSignal, iterations = ANALYSIS_ITERATIONS): Promise<MoveAnalysis | null> {
  const best: number[] = [];
  const played: (number | null)[] = [];
  let p = ultimate.start();
  for (const [ply, cell] of moves.entries()) {
    if (signal?.aborted) return null;
    const evaluation = await pool.evaluate({ position: ultimate.serialize(p), played: cell, iterations, seed: ply + 1 });
    best.push(evaluation.best);
    played.push(evaluation.played);
    const mover = ultimate.turn(p);
    p = ultimate.play(p, cell, mover);
    const exact = finalScore(p);
    if (exact !== null) played[ply] = mover === 'X' ? exact : 1 - exact;
  }
  // After a resignation the last position is still open: its value is needed for the last move.
  const legal = ultimate.legalMoves(p);
  const last = legal.length > 0 && played.at(-1) === null ? (await pool.evaluate({ position: ultimate.serialize(p), played: legal[0]!, iterations, seed: 0 })).best : 0.5;
  // A move the search barely tried is worth what the opponent's best reply leaves its player.
  return { best, played: played.map((value, ply) => value ?? 1 - (best[ply + 1] ?? last)) };
}
