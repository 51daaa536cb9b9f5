/** Who hears about each change to a game (src/game/changes.ts, the one publish point). */
import { describe, expect, it } from 'vitest';
import { eventOf, type GameChange } from '../../src/game/changes.js';

const change = (kind: GameChange['kind'], extra: Partial<GameChange> = {}): GameChange => ({ kind, game: 'g', version: 2, players: [1, null], ...extra });

describe('eventOf', () => {
  it.each<[string, GameChange, { players: number[]; lobby: boolean }]>([
    ['an invitation to a friend: its creator only', change('created', { listed: false }), { players: [1], lobby: false }],
    ['an open game: everyone (open games)', change('created', { listed: true }), { players: [1], lobby: true }],
    ['a game against the computer: everyone (games being played)', change('created', { listed: true }), { players: [1], lobby: true }],
    ['a join: everyone', change('joined', { players: [1, 2] }), { players: [1, 2], lobby: true }],
    ['a move: its players, not everyone', change('moved', { players: [1, 2] }), { players: [1, 2], lobby: false }],
    ['an ending: everyone', change('ended', { players: [1, 2] }), { players: [1, 2], lobby: true }],
    ['a rematch offer: its players', change('rematch-offered', { players: [1, 2] }), { players: [1, 2], lobby: false }],
    ['a rematch: everyone', change('rematched', { players: [1, 2] }), { players: [1, 2], lobby: true }],
    ['presence: watchers only', change('presence', { version: 0, players: [] }), { players: [], lobby: false }],
  ])('%s', (_name, input, expected) => {
    expect(eventOf(input)).toEqual({ kind: 'game', game: 'g', version: input.version, ...expected });
  });

  it('carries the state a move produced, so that watchers need not read it', () => {
    const state = { id: 'g', version: 3 } as never;
    expect(eventOf(change('moved', { state })).state).toBe(state);
  });
});
