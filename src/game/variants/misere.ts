/**
 * Misère tic-tac-toe: the classic 3×3 board and moves, but whoever completes three in a row loses.
 * Solved like classic (see ai.ts): a draw with perfect play, and the second player is the one who
 * must avoid being forced into a line.
 */
import { threeByThree, winner, type Board } from './classic.js';
import type { Result, Variant } from './types.js';

/** The player who completed a line lost; a full board without a line is a draw. */
export function misereResult(board: Board): Result {
  const line = winner(board);
  if (line) return line.mark === 'X' ? 'o_won' : 'x_won';
  return board.includes(null) ? 'in_progress' : 'draw';
}

export const misere: Variant<Board> = {
  id: 'misere',
  name: 'Misère',
  summary: 'Three in a row loses: make your opponent complete a line.',
  ...threeByThree(misereResult),
};
