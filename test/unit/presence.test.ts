/**
 * Presence and the claim-victory rule (src/game/presence.ts), as pure functions of a game's state
 * and the time.
 */
import { describe, expect, it } from 'vitest';
import type { GameState } from '../../src/game/model.js';
import { CLAIM_AFTER_MS, PAGE_PRESENCE_MS, PAGE_RELOAD_SECONDS, claimableAt, isAway, nextPresenceChange } from '../../src/game/presence.js';
import { moverAt } from '../../src/game/row.js';
import { ALICE, boardOf, gameState, NOW } from '../helpers/game-state.js';

const COMPUTER = { id: null, name: 'Computer (Perfect)' };

/** An active game between alice (X) and bob (O); by default O is to move since NOW - 20 s. */
function game(overrides: Partial<GameState> = {}): GameState {
  const moves = overrides.moves ?? [4];
  return gameState({ version: 3, turnStartedAt: NOW - 20_000, ...overrides, moves, board: boardOf(moves), ply: moves.length });
}

const away = (X: number | null, O: number | null): GameState['awaySince'] => ({ X, O });
const vsComputer = (overrides: Partial<GameState>) =>
  game({ mode: 'ai', aiLevel: 'perfect', players: { X: ALICE, O: COMPUTER }, ...overrides });

describe('constants', () => {
  it('allows a minute before a claim and counts a page load as two reloads of presence', () => {
    expect(CLAIM_AFTER_MS).toBe(60_000);
    expect(PAGE_RELOAD_SECONDS).toBe(15);
    expect(PAGE_PRESENCE_MS).toBe(30_000);
  });
});

describe('moverAt', () => {
  it.each([
    [0, 'X'],
    [1, 'O'],
    [2, 'X'],
    [7, 'O'],
    [8, 'X'],
    [9, 'O'],
  ])('after %i moves, %s is to move', (ply, mark) => {
    expect(moverAt(ply)).toBe(mark);
  });
});

describe('isAway', () => {
  it.each([
    ['connected (null)', game({ awaySince: away(null, null) }), 'O', false],
    ['gone since a while', game({ awaySince: away(null, NOW - 10_000) }), 'O', true],
    ['gone since this very moment', game({ awaySince: away(null, NOW) }), 'O', true],
    ['present by a page load for 1 ms more', game({ awaySince: away(null, NOW + 1) }), 'O', false],
    ['present by a page load for 30 s more', game({ awaySince: away(null, NOW + 30_000) }), 'O', false],
    ['gone, not to move', game({ awaySince: away(NOW - 10_000, null) }), 'X', true],
    ['the other seat is gone', game({ awaySince: away(NOW - 10_000, null) }), 'O', false],
    ['gone, game finished', game({ status: 'finished', result: 'x_won', reason: 'resigned', awaySince: away(null, NOW - 10_000) }), 'O', false],
    ['gone, game waiting', game({ status: 'waiting', moves: [], players: { X: ALICE, O: null }, awaySince: away(NOW - 10_000, null) }), 'X', false],
    ['gone, game aborted', game({ status: 'aborted', reason: 'cancelled', moves: [], players: { X: ALICE, O: null }, awaySince: away(NOW - 10_000, null) }), 'X', false],
    ['the computer, with a time', vsComputer({ awaySince: away(null, NOW - 10_000) }), 'O', false],
    ['the human against the computer', vsComputer({ moves: [4, 0], awaySince: away(NOW - 10_000, null) }), 'X', true],
    ['an empty seat, with a time', game({ players: { X: ALICE, O: null }, awaySince: away(null, NOW - 10_000) }), 'O', false],
  ] as const)('%s: %s away is %s', (_label, state, seat, expected) => {
    expect(isAway(state, seat, NOW)).toBe(expected);
  });

  it('turns true at the moment a page load stops counting', () => {
    const state = game({ awaySince: away(null, NOW + 30_000) });
    expect([NOW, NOW + 29_999, NOW + 30_000, NOW + 90_000].map((t) => isAway(state, 'O', t))).toEqual([false, false, true, true]);
  });
});

describe('claimableAt', () => {
  it.each([
    // [label, state, seat, expected]
    ['away on their turn, after it began', game({ awaySince: away(null, NOW - 10_000), turnStartedAt: NOW - 20_000 }), 'O', NOW + 50_000],
    ['away before their turn began', game({ awaySince: away(null, NOW - 50_000), turnStartedAt: NOW - 5_000 }), 'O', NOW + 55_000],
    ['away as their turn began', game({ awaySince: away(null, NOW - 20_000), turnStartedAt: NOW - 20_000 }), 'O', NOW + 40_000],
    ['away, no turn start known', game({ awaySince: away(null, NOW - 10_000), turnStartedAt: null }), 'O', NOW + 50_000],
    ['away long ago', game({ awaySince: away(null, NOW - 600_000), turnStartedAt: NOW - 700_000 }), 'O', NOW - 540_000],
    ['present by a page load until later', game({ awaySince: away(null, NOW + 20_000), turnStartedAt: NOW - 20_000 }), 'O', NOW + 80_000],
    ['X away on X\'s turn', game({ moves: [4, 0], awaySince: away(NOW - 30_000, null), turnStartedAt: NOW - 40_000 }), 'X', NOW + 30_000],
    ['connected on their turn', game({ awaySince: away(null, null), turnStartedAt: NOW - 3_600_000 }), 'O', null],
    ['away, not their turn', game({ awaySince: away(NOW - 600_000, null) }), 'X', null],
    ['away, not their turn (O)', game({ moves: [4, 0], awaySince: away(null, NOW - 600_000) }), 'O', null],
    ['away on their turn, game finished', game({ status: 'finished', result: 'x_won', reason: 'resigned', awaySince: away(null, NOW - 600_000) }), 'O', null],
    ['away, game waiting', game({ status: 'waiting', moves: [], players: { X: ALICE, O: null }, awaySince: away(NOW - 600_000, null) }), 'X', null],
    ['the computer, on its turn', vsComputer({ awaySince: away(null, NOW - 600_000) }), 'O', null],
  ] as const)('%s', (_label, state, seat, expected) => {
    expect(claimableAt(state, seat)).toBe(expected);
  });
});

describe('nextPresenceChange', () => {
  it.each([
    ['both connected', game(), null],
    ['the player to move is away, claim to come', game({ awaySince: away(null, NOW - 10_000), turnStartedAt: NOW - 20_000 }), NOW + 50_000],
    ['the claim is already possible', game({ awaySince: away(null, NOW - 60_000), turnStartedAt: NOW - 70_000 }), null],
    ['the claim becomes possible right now', game({ awaySince: away(null, NOW - 60_000), turnStartedAt: NOW - 60_000 }), null],
    ['the claim becomes possible in 1 ms', game({ awaySince: away(null, NOW - 59_999), turnStartedAt: NOW - 60_000 }), NOW + 1],
    ['the player to move goes away later', game({ awaySince: away(null, NOW + 20_000) }), NOW + 20_000],
    ['the other player goes away later', game({ awaySince: away(NOW + 5_000, null) }), NOW + 5_000],
    ['the other player is already away', game({ awaySince: away(NOW - 5_000, null) }), null],
    ['both go away later, the sooner counts', game({ awaySince: away(NOW + 25_000, NOW + 10_000) }), NOW + 10_000],
    ['a claim comes before the other player goes away', game({ awaySince: away(NOW + 30_000, NOW - 50_000), turnStartedAt: NOW - 60_000 }), NOW + 10_000],
    ['the other player goes away before a claim', game({ awaySince: away(NOW + 3_000, NOW - 10_000), turnStartedAt: NOW - 20_000 }), NOW + 3_000],
    ['a finished game', game({ status: 'finished', result: 'x_won', reason: 'resigned', awaySince: away(NOW + 5_000, NOW + 5_000) }), null],
    ['an aborted game', game({ status: 'aborted', reason: 'cancelled', moves: [], players: { X: ALICE, O: null }, awaySince: away(NOW + 5_000, null) }), null],
    ['the computer is to move, the human away', vsComputer({ awaySince: away(NOW - 10_000, null) }), null],
  ] as const)('%s', (_label, state, expected) => {
    expect(nextPresenceChange(state, NOW)).toBe(expected);
  });

  it('walks through a page-load player going away and becoming claimable', () => {
    // bob (to move) loaded the page at NOW - 10 s: present until NOW + 20 s, claimable at NOW + 80 s.
    const state = game({ awaySince: away(null, NOW + 20_000), turnStartedAt: NOW - 20_000 });
    expect(nextPresenceChange(state, NOW)).toBe(NOW + 20_000);
    expect(nextPresenceChange(state, NOW + 20_000)).toBe(NOW + 80_000);
    expect(nextPresenceChange(state, NOW + 79_999)).toBe(NOW + 80_000);
    expect(nextPresenceChange(state, NOW + 80_000)).toBeNull();
  });
});
