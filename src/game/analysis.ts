/**
 * After a game of a solved variant (classic, misère): each move judged by perfect play (did it
 * keep the best outcome the position offered?), and the first move that made things worse. Pure;
 * used by the game page.
 */
import { evaluate, type LineRule, type Outcome } from './ai.js';
import { emptyBoard, play, turn } from './variants/classic.js';
import type { AnyVariant, Mark } from './variants/types.js';

export type Verdict = 'kept-win' | 'kept-draw' | 'threw-win' | 'lost-draw' | 'already-lost';

export interface MoveVerdict {
  mark: Mark;
  cell: number;
  verdict: Verdict;
  /** A move that made the result worse for the player who made it. */
  mistake: boolean;
}

export const VERDICT_WORDS: Record<Verdict, string> = {
  'kept-win': 'kept the win',
  'kept-draw': 'kept the draw',
  'threw-win': 'threw away a win',
  'lost-draw': 'lost a drawn game',
  'already-lost': 'already lost',
};

const RANK: Record<Outcome, number> = { loss: 0, draw: 1, win: 2 };

function judge(best: Outcome, chosen: Outcome): Verdict {
  if (best === 'win') return chosen === 'win' ? 'kept-win' : 'threw-win';
  if (best === 'draw') return chosen === 'draw' ? 'kept-draw' : 'lost-draw';
  return 'already-lost';
}

/** The variant's position after the first `ply` moves (replay). */
export function positionAt(variant: AnyVariant, moves: readonly number[], ply: number): unknown {
  let position = variant.start();
  for (const cell of moves.slice(0, ply)) position = variant.play(position, cell, variant.turn(position));
  return position;
}

/** Each move of a 3×3 game judged by perfect play under `rule` (classic or misère). */
export function analyseMoves(moves: readonly number[], rule: LineRule = 'classic'): { verdicts: MoveVerdict[]; firstMistake: number | null } {
  let board = emptyBoard();
  const verdicts: MoveVerdict[] = [];
  for (const cell of moves) {
    const options = evaluate(board, rule);
    const best = options.reduce((a, b) => (RANK[b.outcome] > RANK[a.outcome] ? b : a)).outcome;
    const chosen = options.find((o) => o.cell === cell)!.outcome;
    const verdict = judge(best, chosen);
    const mark = turn(board);
    verdicts.push({ mark, cell, verdict, mistake: verdict === 'threw-win' || verdict === 'lost-draw' });
    board = play(board, cell, mark);
  }
  const first = verdicts.findIndex((v) => v.mistake);
  return { verdicts, firstMistake: first === -1 ? null : first };
}
