/**
 * The computer in every variant: which levels each offers, and one asynchronous `move` for all.
 * Classic and misère are solved (a table lookup, ../ai.ts) and answer at once on the event loop;
 * Ultimate's players search, in the worker pool (pool.ts), within its time budget.
 */
import { bestMoves, chooseMove, type Level } from '../ai.js';
import type { Board } from '../variants/classic.js';
import type { UltimatePosition } from '../variants/ultimate.js';
import type { AnyVariant, Mark, VariantId } from '../variants/types.js';
import type { Random } from '../random.js';
import type { EnginePool } from './pool.js';
import { analyseUltimate } from './analyse.js';
import type { UltimateLevel } from './ultimate/players.js';

export type { Level };

/** The levels each variant offers, weakest first. */
export const LEVELS: Record<VariantId, readonly Level[]> = {
  classic: ['easy', 'medium', 'perfect'],
  misere: ['easy', 'medium', 'perfect'],
  ultimate: ['easy', 'medium', 'hard'],
};

export function offersLevel(variant: VariantId, level: Level): boolean {
  return LEVELS[variant].includes(level);
}

/** Ultimate's opening when the computer plays X: the centre of the centre board, the usual choice. */
const ULTIMATE_OPENING = 40;

export interface Computer {
  /**
   * The computer's move (a cell) as `mark` in `position` of `variant`. `game` lets Ultimate's
   * search keep its tree between the moves of one game.
   */
  move(variant: AnyVariant, level: Level, position: unknown, mark: Mark, game: string): Promise<number>;
  /** The move the strongest level would make for the player to move (for hints). */
  hint(variant: AnyVariant, position: unknown, game: string): Promise<number>;
  /** Ultimate's post-game analysis (see analyse.ts): X's expected score after each ply. */
  analyse(moves: readonly number[], signal?: AbortSignal): Promise<number[] | null>;
}

/** Ultimate hints remembered per position, so asking again (or reloading) costs no search. */
const KEPT_HINTS = 1_000;

export function createComputer(pool: EnginePool, random: Random): Computer {
  const hints = new Map<string, Promise<number>>();
  return {
    async move(variant, level, position, mark, game) {
      if (variant.id === 'ultimate') {
        const p = position as UltimatePosition;
        if (p.cells.every((cell) => cell === null) && level === 'hard') return ULTIMATE_OPENING;
        const thought = await pool.think({ position: variant.serialize(p), level: level as UltimateLevel, seed: Math.floor(random() * 2 ** 32), game });
        return thought.cell;
      }
      return chooseMove(level, position as Board, mark, random, variant.id === 'misere' ? 'misere' : 'classic');
    },
    async hint(variant, position, game) {
      if (variant.id === 'ultimate') {
        const key = variant.serialize(position);
        let hint = hints.get(key);
        if (!hint) {
          if (hints.size >= KEPT_HINTS) hints.delete(hints.keys().next().value!);
          hint = pool.think({ position: key, level: 'hard', seed: 1, game: `${game}:hint` }).then((t) => t.cell);
          hints.set(key, hint);
          hint.catch(() => hints.delete(key));
        }
        return hint;
      }
      // The lowest cell among the best, so a hint is the same each time it is asked for.
      return bestMoves(position as Board, variant.id === 'misere' ? 'misere' : 'classic')[0]!;
    },
    analyse: (moves, signal) => analyseUltimate(pool, moves, signal),
  };
}
