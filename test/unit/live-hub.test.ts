/** LiveHub without sockets or a database: fake subscribers, a fake game store and fake timers. */
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest';
import pino from 'pino';
import type { BusEvent } from '../../src/db/events.js';
import { CLOSE_SIGNED_OUT, CLOSE_TRY_AGAIN } from '../../src/game/close-codes.js';
import type { GameState } from '../../src/game/model.js';
import type { ServerMessage } from '../../src/game/protocol.js';
import { LiveHub, type Subscriber } from '../../src/live/hub.js';

function game(id: string, version: number, players: [number | null, number | null] = [1, 2]): GameState {
  return {
    id,
    variant: 'classic',
    mode: 'friend',
    aiLevel: null,
    status: 'active',
    result: null,
    reason: null,
    board: '.........',
    ply: 0,
    version,
    createdBy: players[0] ?? 0,
    players: { X: players[0] === null ? null : { id: players[0], name: 'x' }, O: players[1] === null ? null : { id: players[1], name: 'o' } },
    moves: [],
    awaySince: { X: null, O: null },
    turnStartedAt: 0,
    expiresAt: null,
    rematch: { offeredBy: null, nextId: null },
    analysis: null,
  };
}

interface FakeSubscriber extends Subscriber {
  received: ServerMessage[];
  closed: number | null;
}

function subscriber(userId: number | null, session = `sid-${userId}`, loginAt = 1_000): FakeSubscriber {
  const sub: FakeSubscriber = {
    userId,
    sid: session,
    sessionKey: `key-${session}`,
    loginAt,
    expiresAt: Infinity,
    received: [],
    closed: null,
    deliver: (message) => sub.received.push(typeof message === 'string' ? (JSON.parse(message) as ServerMessage) : message),
    close: (code) => {
      sub.closed = code;
    },
  };
  return sub;
}

const states = (sub: FakeSubscriber) => sub.received.filter((m): m is Extract<ServerMessage, { type: 'state' }> => m.type === 'state');
const lobbyNotices = (sub: FakeSubscriber) => sub.received.filter((m) => m.type === 'lobby').length;
const gameEvent = (game: string, extra: Partial<Extract<BusEvent, { kind: 'game' }>> = {}): BusEvent => ({ kind: 'game', game, version: 0, players: [], lobby: false, ...extra });

describe('LiveHub', () => {
  let stored: Map<string, GameState>;
  let reads: number;
  let presence: { join: Mock<(gameId: string, userId: number) => Promise<void>>; leave: Mock<(gameId: string, userId: number) => Promise<void>> };
  let validSessions: Map<string, number>;
  let hub: LiveHub;

  beforeEach(() => {
    vi.useFakeTimers();
    stored = new Map([['g1', game('g1', 3)]]);
    reads = 0;
    presence = { join: vi.fn(async (_g: string, _u: number) => {}), leave: vi.fn(async (_g: string, _u: number) => {}) };
    validSessions = new Map();
    hub = new LiveHub({
      loadGame: async (id) => {
        reads += 1;
        return stored.get(id);
      },
      checkSessions: async (sids) => new Map(sids.filter((s) => validSessions.has(s)).map((s) => [s, validSessions.get(s)!])),
      presence,
      clock: () => 42,
      logger: pino({ level: 'silent' }),
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends a watcher the game at once, and every newer state a move event carries without reading it', async () => {
    const watcher = subscriber(null);
    hub.add(watcher);
    expect(await hub.watch(watcher, 'g1')).toBe(true);
    expect(states(watcher).map((m) => [m.game.version, m.now])).toEqual([[3, 42]]);
    const readsBefore = reads;
    await hub.onEvent(gameEvent('g1', { version: 4, state: game('g1', 4) }));
    // An older state arriving late (events from two instances) is not shown.
    await hub.onEvent(gameEvent('g1', { version: 3, state: game('g1', 3) }));
    expect(states(watcher).map((m) => m.game.version)).toEqual([3, 4]);
    expect(reads).toBe(readsBefore);
    expect(hub.latest('g1')?.version).toBe(4);
  });

  it('never counts a socket that closed while its game was being read, and keeps nothing of it', async () => {
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const load = vi.fn(async (id: string) => {
      await slow;
      return stored.get(id);
    });
    hub = new LiveHub({ loadGame: load, checkSessions: async () => new Map(), presence, clock: () => 42, logger: pino({ level: 'silent' }) });
    const player = subscriber(1);
    hub.add(player);
    const watching = hub.watch(player, 'g1');
    hub.remove(player);
    release();
    expect(await watching).toBe(false);
    expect(presence.join).not.toHaveBeenCalled();
    expect(hub.latest('g1')).toBeUndefined();
    await hub.onEvent(gameEvent('g1', { version: 4, state: game('g1', 4) }));
    expect(player.received).toEqual([]);
  });

  it('sends a new watcher a move made while the game was being read for it', async () => {
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    hub = new LiveHub({
      loadGame: async (id) => {
        if (first) {
          first = false;
          const before = stored.get(id);
          await slow;
          return before;
        }
        return stored.get(id);
      },
      checkSessions: async () => new Map(),
      presence,
      clock: () => 42,
      logger: pino({ level: 'silent' }),
    });
    const watcher = subscriber(null);
    hub.add(watcher);
    const watching = hub.watch(watcher, 'g1');
    // The move commits and its event arrives before the read that started earlier returns.
    stored.set('g1', game('g1', 4));
    await hub.onEvent(gameEvent('g1', { version: 4, state: game('g1', 4) }));
    release();
    await watching;
    expect(states(watcher).map((m) => m.game.version)).toEqual([3, 4]);
  });

  it('answers false for a game that does not exist, and follows nothing', async () => {
    const watcher = subscriber(7);
    hub.add(watcher);
    expect(await hub.watch(watcher, 'nope')).toBe(false);
    expect(watcher.received).toEqual([]);
  });

  it('counts a player’s socket as presence while it follows their game, and not a watcher’s', async () => {
    const player = subscriber(1);
    const watcher = subscriber(9);
    hub.add(player);
    hub.add(watcher);
    await hub.watch(player, 'g1');
    await hub.watch(watcher, 'g1');
    expect(presence.join.mock.calls).toEqual([['g1', 1]]);
    hub.remove(player);
    hub.remove(watcher);
    expect(presence.leave.mock.calls).toEqual([['g1', 1]]);
    // With no watcher left, the instance forgets the game.
    expect(hub.latest('g1')).toBeUndefined();
  });

  it('re-reads a game once for many events that arrive during a read, and the last read follows the last event', async () => {
    const watcher = subscriber(null);
    hub.add(watcher);
    await hub.watch(watcher, 'g1');
    reads = 0;
    stored.set('g1', game('g1', 5));
    const events = [1, 2, 3, 4, 5].map(() => hub.onEvent(gameEvent('g1')));
    await Promise.all(events);
    expect(reads).toBe(2);
    expect(states(watcher).at(-1)?.game.version).toBe(5);
  });

  it('tells lobby subscribers of changes to everyone’s lists or to their own games, at most once per interval plus a trailing notice', async () => {
    const mine = subscriber(1);
    const other = subscriber(5);
    hub.add(mine);
    hub.add(other);
    hub.watchLobby(mine);
    hub.watchLobby(other);
    await hub.onEvent(gameEvent('g9', { players: [1] }));
    expect([lobbyNotices(mine), lobbyNotices(other)]).toEqual([1, 0]);
    await hub.onEvent(gameEvent('g9', { lobby: true }));
    await hub.onEvent(gameEvent('g9', { lobby: true }));
    expect([lobbyNotices(mine), lobbyNotices(other)]).toEqual([1, 1]);
    vi.advanceTimersByTime(500);
    // The changes inside the interval get one notice at its end, not one each and not none.
    expect([lobbyNotices(mine), lobbyNotices(other)]).toEqual([2, 2]);
    vi.advanceTimersByTime(5_000);
    expect([lobbyNotices(mine), lobbyNotices(other)]).toEqual([2, 2]);
  });

  it('closes the sockets of ended sessions: one session, or an account’s sessions from before a moment', async () => {
    const old = subscriber(1, 'a', 1_000);
    const fresh = subscriber(1, 'b', 5_000);
    const bystander = subscriber(2, 'c');
    for (const s of [old, fresh, bystander]) hub.add(s);
    await hub.onEvent({ kind: 'user', user: 1, validAfter: 2_000 });
    expect([old.closed, fresh.closed, bystander.closed]).toEqual([CLOSE_SIGNED_OUT, null, null]);
    await hub.onEvent({ kind: 'session', session: 'key-b' });
    expect(fresh.closed).toBe(CLOSE_SIGNED_OUT);
    expect(bystander.closed).toBeNull();
  });

  it('asks every client to come back later when the database is gone, and after lost events checks sessions and re-sends states', async () => {
    const watcher = subscriber(1, 'live');
    const expired = subscriber(2, 'gone');
    hub.add(watcher);
    hub.add(expired);
    await hub.watch(watcher, 'g1');
    validSessions.set('live', 99_000);
    stored.set('g1', game('g1', 8));
    await hub.onEvent({ kind: 'resync' });
    expect(expired.closed).toBe(CLOSE_SIGNED_OUT);
    expect(watcher.closed).toBeNull();
    expect(watcher.expiresAt).toBe(99_000);
    expect(states(watcher).at(-1)?.game.version).toBe(8);
    await hub.onEvent({ kind: 'unavailable' });
    expect(watcher.closed).toBe(CLOSE_TRY_AGAIN);
  });
});
