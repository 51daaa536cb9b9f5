/**
 * Glicko-2 ratings (glicko2-lite does the arithmetic). Each rated game is its own rating period,
 * as on most game sites, so ratings move right after the game instead of in batches.
 */
import glicko2 from 'glicko2-lite';
import type { FinalResult } from '../game/model.js';

export interface Rating {
  rating: number;
  deviation: number;
  volatility: number;
}

export const NEW_PLAYER: Rating = { rating: 1500, deviation: 350, volatility: 0.06 };
/** A rating whose deviation is above this is shown with a "?" and listed apart. */
export const PROVISIONAL_DEVIATION = 110;

export function isProvisional(rating: Pick<Rating, 'deviation'>): boolean {
  return rating.deviation > PROVISIONAL_DEVIATION;
}

/** One player's new rating after games against these opponents (score 1 win, 0.5 draw, 0 loss). */
export function rate(player: Rating, games: { opponent: Rating; score: 0 | 0.5 | 1 }[]): Rating {
  const next = glicko2(
    player.rating,
    player.deviation,
    player.volatility,
    games.map((g) => [g.opponent.rating, g.opponent.deviation, g.score]),
  );
  return { rating: next.rating, deviation: next.rd, volatility: next.vol };
}

/** Both players' new ratings after one game between them. */
export function rateGame(x: Rating, o: Rating, result: FinalResult): { x: Rating; o: Rating } {
  const xScore = result === 'x_won' ? 1 : result === 'draw' ? 0.5 : 0;
  return {
    x: rate(x, [{ opponent: o, score: xScore }]),
    o: rate(o, [{ opponent: x, score: (1 - xScore) as 0 | 0.5 | 1 }]),
  };
}

/** "1534" or "1500?" while provisional. */
export function displayRating(rating: Pick<Rating, 'rating' | 'deviation'>): string {
  return `${Math.round(rating.rating)}${isProvisional(rating) ? '?' : ''}`;
}
