/** LiveConnection and its rate limit on a fake socket, a fake hub and a fake clock. */
import { describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { CLOSE_POLICY, CLOSE_SIGNED_OUT } from '../../src/game/close-codes.js';
import { GameError } from '../../src/game/errors.js';
import type { ServerMessage } from '../../src/game/protocol.js';
import { LiveConnection, type GameActions, type Identity } from '../../src/live/connection.js';
import type { LiveHub } from '../../src/live/hub.js';
import { TokenBucket } from '../../src/live/rate-limit.js';

const GAME = 'AbCdEfGhIjKl';

function setup(identity: Partial<Identity> = {}) {
  let now = 1_000_000;
  const sent: ServerMessage[] = [];
  let closed: number | null = null;
  const socket = {
    readyState: 1,
    send: (data: string) => sent.push(JSON.parse(data) as ServerMessage),
    close: (code: number) => {
      closed = code;
    },
  };
  const hub = {
    watch: vi.fn(async (_sub: unknown, id: string) => id === GAME),
    watchLobby: vi.fn(),
    latest: vi.fn(() => undefined),
    sendState: vi.fn(async () => {}),
  };
  const actions: GameActions = {
    move: vi.fn(async () => ({})),
    resign: vi.fn(async () => {}),
    claim: vi.fn(async () => {
      throw new GameError('cannot_claim', 'Not yet.');
    }),
    rematch: vi.fn(async () => 'NextGame1234'),
  };
  const checkSession = vi.fn(async (): Promise<number | undefined> => undefined);
  const conn = new LiveConnection(
    socket,
    { userId: 7, sid: 's', sessionKey: 'k', loginAt: 0, expiresAt: Infinity, ...identity },
    new TokenBucket(20, 10, () => now),
    { hub: hub as unknown as LiveHub, actions, checkSession, now: () => now, logger: pino({ level: 'silent' }) },
  );
  const frame = (message: unknown) => conn.onFrame(Buffer.from(typeof message === 'string' ? message : JSON.stringify(message)), false);
  return { conn, sent, hub, actions, checkSession, frame, closed: () => closed, advance: (ms: number) => (now += ms) };
}

describe('LiveConnection', () => {
  it('runs each message type’s handler and answers actions with an ack carrying the request id', async () => {
    const { sent, hub, actions, frame } = setup();
    await frame({ type: 'subscribe', game: GAME });
    await frame({ type: 'subscribe-lobby' });
    await frame({ type: 'move', id: 'm1', game: GAME, ply: 0, cell: 4 });
    await frame({ type: 'resign', id: 'r1', game: GAME });
    await frame({ type: 'rematch', id: 'x1', game: GAME });
    expect(hub.watch).toHaveBeenCalledTimes(1);
    expect(hub.watchLobby).toHaveBeenCalledTimes(1);
    expect(actions.move).toHaveBeenCalledWith(7, GAME, 0, 4, undefined);
    expect(sent).toEqual([
      { type: 'ack', id: 'm1' },
      { type: 'ack', id: 'r1' },
      { type: 'ack', id: 'x1', rematchId: 'NextGame1234' },
    ]);
  });

  it('answers every refusal with an error naming the request it answers, and re-sends the game after a refused action', async () => {
    const { sent, hub, frame } = setup();
    await frame({ type: 'claim', id: 'c1', game: GAME });
    await frame({ type: 'subscribe', id: 's1', game: 'ZZZZZZZZZZZZ' });
    await frame({ type: 'move', id: 'bad1', game: GAME, ply: 0, cell: 99 });
    await frame('{not json');
    expect(sent).toEqual([
      { type: 'error', id: 'c1', code: 'cannot_claim', message: 'Not yet.' },
      { type: 'error', id: 's1', code: 'not_found', message: expect.any(String) },
      { type: 'error', id: 'bad1', code: 'bad_message', message: expect.any(String) },
      { type: 'error', code: 'bad_json', message: expect.any(String) },
    ]);
    expect(hub.sendState).toHaveBeenCalledTimes(1);
  });

  it('answers a failure on our side with server_error and the request id, and keeps the socket', async () => {
    const { sent, actions, frame, closed } = setup();
    vi.mocked(actions.resign).mockRejectedValueOnce(new Error('boom'));
    await frame({ type: 'resign', id: 'r9', game: GAME });
    expect(sent).toEqual([{ type: 'error', id: 'r9', code: 'server_error', message: expect.any(String) }]);
    expect(closed()).toBeNull();
  });

  it('lets a signed-out visitor watch but not act or follow a lobby', async () => {
    const { sent, actions, hub, frame } = setup({ userId: null, sid: '', sessionKey: '' });
    await frame({ type: 'subscribe', game: GAME });
    await frame({ type: 'subscribe-lobby', id: 'l1' });
    await frame({ type: 'move', id: 'm1', game: GAME, ply: 0, cell: 4 });
    expect(hub.watch).toHaveBeenCalledTimes(1);
    expect(hub.watchLobby).not.toHaveBeenCalled();
    expect(actions.move).not.toHaveBeenCalled();
    expect(sent.map((m) => m.type === 'error' && [m.id, m.code])).toEqual([
      ['l1', 'not_signed_in'],
      ['m1', 'not_signed_in'],
    ]);
  });

  it('asks the database once the session’s known expiry has passed: an ended session closes the socket, a renewed one acts', async () => {
    const ended = setup({ expiresAt: 1_000_500 });
    ended.advance(1_000);
    await ended.frame({ type: 'resign', id: 'r1', game: GAME });
    expect(ended.actions.resign).not.toHaveBeenCalled();
    expect(ended.sent).toEqual([{ type: 'error', id: 'r1', code: 'session_expired', message: expect.any(String) }]);
    expect(ended.closed()).toBe(CLOSE_SIGNED_OUT);

    const renewed = setup({ expiresAt: 1_000_500 });
    renewed.checkSession.mockResolvedValue(9_999_999);
    renewed.advance(1_000);
    await renewed.frame({ type: 'resign', id: 'r2', game: GAME });
    await renewed.frame({ type: 'resign', id: 'r3', game: GAME });
    expect(renewed.actions.resign).toHaveBeenCalledTimes(2);
    expect(renewed.checkSession).toHaveBeenCalledTimes(1);
  });

  it('refuses a burst past the limit with rate_limited (and the request id), and cuts off a client that keeps sending', async () => {
    const { sent, frame, closed, advance } = setup();
    for (let i = 0; i < 25; i++) await frame({ type: 'resign', id: `r${i}`, game: GAME });
    const limited = sent.filter((m) => m.type === 'error' && m.code === 'rate_limited');
    expect(limited.map((m) => m.type === 'error' && m.id)).toEqual(['r20', 'r21', 'r22', 'r23', 'r24']);
    advance(1_000); // 10 more tokens
    sent.length = 0;
    for (let i = 0; i < 10; i++) await frame({ type: 'resign', id: `s${i}`, game: GAME });
    expect(sent.every((m) => m.type === 'ack')).toBe(true);
    for (let i = 0; i < 60; i++) await frame({ type: 'resign', id: `t${i}`, game: GAME });
    expect(closed()).toBe(CLOSE_POLICY);
  });
});

describe('TokenBucket', () => {
  it('allows a burst of its size, then refills at its rate on the given clock', () => {
    let now = 0;
    const bucket = new TokenBucket(3, 2, () => now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    expect(bucket.refusedInARow).toBe(1);
    now += 499;
    expect(bucket.take()).toBe(false);
    now += 1;
    expect(bucket.take()).toBe(true);
    expect(bucket.refusedInARow).toBe(0);
    now += 60_000;
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });
});
