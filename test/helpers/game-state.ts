/** GameState fixtures for the pure tests (view, presence, live hub): alice (X) against bob (O). */
import type { GameState } from '../../src/game/model.js';

export const NOW = 1_700_000_000_000;
export const ALICE = { id: 1, name: 'alice' };
export const BOB = { id: 2, name: 'bob' };

/** The board a list of moves leaves, written by hand (X on even indexes). */
export function boardOf(moves: readonly number[]): string {
  const cells = new Array<string>(9).fill('.');
  moves.forEach((cell, i) => {
    cells[cell] = i % 2 === 0 ? 'X' : 'O';
  });
  return cells.join('');
}

/**
 * An active open game between alice (X) and bob (O), both connected, after `moves` (default
 * none); board and ply follow the moves unless given.
 */
export function gameState(overrides: Partial<GameState> = {}): GameState {
  const moves = overrides.moves ?? [];
  return {
    id: 'g1',
    variant: 'classic',
    mode: 'open',
    aiLevel: null,
    status: 'active',
    result: null,
    reason: null,
    version: 7,
    createdBy: ALICE.id,
    players: { X: ALICE, O: BOB },
    awaySince: { X: null, O: null },
    turnStartedAt: NOW - 5_000,
    expiresAt: null,
    rematch: { offeredBy: null, nextId: null },
    analysis: null,
    ...overrides,
    moves,
    board: overrides.board ?? boardOf(moves),
    ply: overrides.ply ?? moves.length,
  };
}
