import { describe, expect, it } from 'vitest';
import { displayRating, isProvisional, NEW_PLAYER, rate, rateGame } from '../../src/users/ratings.js';

describe('Glicko-2 ratings', () => {
  it('reproduces the worked example in Glickman\'s paper', () => {
    // "Example of the Glicko-2 system" (Glickman, 2013): a 1500 / 200 / 0.06 player beats a
    // 1400 / 30 player and loses to 1550 / 100 and 1700 / 300, with tau = 0.5.
    const after = rate({ rating: 1500, deviation: 200, volatility: 0.06 }, [
      { opponent: { rating: 1400, deviation: 30, volatility: 0.06 }, score: 1 },
      { opponent: { rating: 1550, deviation: 100, volatility: 0.06 }, score: 0 },
      { opponent: { rating: 1700, deviation: 300, volatility: 0.06 }, score: 0 },
    ]);
    expect(after.rating).toBeCloseTo(1464.06, 1);
    expect(after.deviation).toBeCloseTo(151.52, 1);
    expect(after.volatility).toBeCloseTo(0.05999, 4);
  });

  it('moves two new players symmetrically after a decisive game, and not at all after a draw', () => {
    const won = rateGame(NEW_PLAYER, NEW_PLAYER, 'x_won');
    expect(won.x.rating).toBeGreaterThan(1500);
    expect(won.o.rating).toBeLessThan(1500);
    expect(won.x.rating - 1500).toBeCloseTo(1500 - won.o.rating, 6);
    expect(won.x.deviation).toBeLessThan(350);
    const drawn = rateGame(NEW_PLAYER, NEW_PLAYER, 'draw');
    expect(drawn.x.rating).toBeCloseTo(1500, 6);
    expect(drawn.o.rating).toBeCloseTo(1500, 6);
  });

  it('marks ratings with a deviation above 110 as provisional', () => {
    expect(isProvisional(NEW_PLAYER)).toBe(true);
    expect(isProvisional({ deviation: 110 })).toBe(false);
    expect(displayRating({ rating: 1499.6, deviation: 350 })).toBe('1500?');
    expect(displayRating({ rating: 1712.2, deviation: 80 })).toBe('1712');
  });
});
