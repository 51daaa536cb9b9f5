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
import { analyseUltimate, type MoveAnalysis } from './analyse.js';
import { GameError } from '../errors.js';
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
   * The computer's move (a cell) as `mark` in `position` of `variant`, for a game of `owner`
   * (the person playing it). `game` lets Ultimate's search keep its tree between moves.
   * Throws GameError 'too_many' when the owner already waits for MAX_PER_OWNER searches, 'busy'
   * when the pool's queue is full.
   */
  move(variant: AnyVariant, level: Level, position: unknown, mark: Mark, game: string, owner: number): Promise<number>;
  /** The move the strongest level would make for the player to move (hints); limits as for `move`. */
  hint(variant: AnyVariant, position: unknown, game: string, owner: number): Promise<number>;
  /** Ultimate's post-game analysis (see analyse.ts). */
  analyse(moves: readonly number[], signal?: AbortSignal): Promise<MoveAnalysis | null>;
}

/** Ultimate searches one person may wait for at once (a move and a hint, say). */
export const MAX_PER_OWNER = 2;
/** Ultimate hints remembered per position, so asking again (or reloading) costs no search. */
const KEPT_HINTS = 1_000;

export function createComputer(pool: EnginePool, random: Random): Computer {
  /** Searches in flight by what they search, so a repeated request (a double click) shares one. */
  const inFlight = new Map<string, Promise<number>>();
  const hints = new Map<string, number>();
  const perOwner = new Map<number, number>();

  /** Runs `search` for `owner` unless they wait for too many already; identical keys share one. */
  function limited(key: string, owner: number, search: () => Promise<number>): Promise<number> {
    const running = inFlight.get(key);
    if (running) return running;
    const count = perOwner.get(owner) ?? 0;
    if (count >= MAX_PER_OWNER) throw new GameError('too_many', 'The computer is still thinking about your other moves. Try again in a moment.');
    if (pool.saturated()) throw new GameError('busy', 'The computer is very busy right now. Try again in a moment.');
    perOwner.set(owner, count + 1);
    const result = search().finally(() => {
      inFlight.delete(key);
      const left = (perOwner.get(owner) ?? 1) - 1;
      if (left > 0) perOwner.set(owner, left);
      else perOwner.delete(owner);
    });
    inFlight.set(key, result);
    return result;
  }

  return {
    async move(variant, level, position, mark, game, owner) {
      if (variant.id !== 'ultimate') return chooseMove(level, position as Board, mark, random, variant.id === 'misere' ? 'misere' : 'classic');
      const p = position as UltimatePosition;
      if (p.cells.every((cell) => cell === null) && level === 'hard') return ULTIMATE_OPENING;
      const key = `move:${game}:${variant.serialize(p)}`;
      const seed = Math.floor(random() * 2 ** 32);
      return limited(key, owner, async () => (await pool.think({ position: variant.serialize(p), level: level as UltimateLevel, seed, game })).cell);
    },
    async hint(variant, position, game, owner) {
      // The lowest cell among the best, so a hint is the same each time it is asked for.
      if (variant.id !== 'ultimate') return bestMoves(position as Board, variant.id === 'misere' ? 'misere' : 'classic')[0]!;
      const key = variant.serialize(position);
      const known = hints.get(key);
      if (known !== undefined) return known;
      const cell = await limited(`hint:${key}`, owner, async () => (await pool.think({ position: key, level: 'hard', seed: 1, game: `${game}:hint` })).cell);
      if (hints.size >= KEPT_HINTS) hints.delete(hints.keys().next().value!);
      hints.set(key, cell);
      return cell;
    },
    analyse: (moves, signal) => analyseUltimate(pool, moves, signal),
  };
}
