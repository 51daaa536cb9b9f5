/**
 * Ultimate's post-game analysis: the engine's estimate of every position of a finished game, one
 * search per position in the worker pool (never on a request). Each search is short and queued on
 * its own, so moves of games in play wait for at most one of them.
 */
import { ultimate, type UltimatePosition } from '../variants/ultimate.js';
import type { EnginePool } from './pool.js';

/** Iterations per position: about 20 ms of a worker here, enough for a stable estimate. */
export const ANALYSIS_ITERATIONS = 4_000;

/** X's expected score (win 1, draw ½, loss 0) when the position is finished, or null while it runs. */
function finalScore(p: UltimatePosition): number | null {
  const result = ultimate.result(p);
  if (result === 'in_progress') return null;
  return result === 'x_won' ? 1 : result === 'o_won' ? 0 : 0.5;
}

/**
 * X's expected score after each ply of `moves` (cells), from the start (ply 0) to the end: an
 * array one longer than `moves`. A finished position scores exactly; others are the engine's.
 * Null when `signal` aborts it (the server is stopping).
 */
export async function analyseUltimate(pool: EnginePool, moves: readonly number[], signal?: AbortSignal, iterations = ANALYSIS_ITERATIONS): Promise<number[] | null> {
  const scores: number[] = [];
  let p = ultimate.start();
  for (let ply = 0; ply <= moves.length; ply++) {
    if (signal?.aborted) return null;
    const exact = finalScore(p);
    if (exact !== null) {
      scores.push(exact);
    } else {
      const thought = await pool.evaluate({ position: ultimate.serialize(p), iterations, seed: ply + 1 });
      const forMover = thought.value ?? 0.5;
      scores.push(ultimate.turn(p) === 'X' ? forMover : 1 - forMover);
    }
    if (ply < moves.length) p = ultimate.play(p, moves[ply]!, ultimate.turn(p));
  }
  return scores;
}
