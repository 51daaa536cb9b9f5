import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createGame, joinGame, loadGame, makeMove } from '../../src/game/service.js';
import type { ServerMessage } from '../../src/game/protocol.js';
import request from 'supertest';
import { csrfTokenIn, GOOD_PASSWORD, startTestApp, type TestApp } from '../helpers/app.js';
import { databaseKinds } from '../helpers/database.js';
import { isState, openSocket, signedIn, type TestSocket } from '../helpers/live.js';

describe.each(databaseKinds)('live play over WebSocket on the %s database', (kind) => {
  let t: TestApp;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await startTestApp(kind, { listen: true });
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await t?.close();
  });

  async function userId(username: string) {
    const { rows } = await t.db.pool.query<{ id: number }>('SELECT id FROM users WHERE username = $1', [username]);
    return rows[0]!.id;
  }

  async function connected() {
    const { cookie, username } = await signedIn(t.url);
    const socket = await openSocket(t.url, cookie);
    sockets.push(socket);
    return { socket, id: await userId(username), cookie };
  }

  /** Two players with sockets subscribed to a started friend game. */
  async function liveGame() {
    const x = await connected();
    const o = await connected();
    const game = await createGame(t.gameDeps, x.id, { mode: 'friend', level: 'perfect', playAs: 'X' });
    await joinGame(t.gameDeps, o.id, game);
    for (const p of [x, o]) {
      p.socket.send({ type: 'subscribe', game });
      await p.socket.next((m) => isState(m) && m.game.status === 'active');
    }
    return { game, x, o };
  }

  describe('the upgrade', () => {
    it('lets a signed-out visitor (or a forged cookie) watch a game live, but not act or see a lobby', async () => {
      for (const cookie of [undefined, 'ttt.sid=s%3Aforged.signature']) {
        const { game, x } = await liveGame();
        const visitor = await openSocket(t.url, cookie);
        expect(await visitor.next((m) => m.type === 'hello')).toEqual({ type: 'hello', signedIn: false });
        visitor.send({ type: 'subscribe', game });
        expect((await visitor.next(isState)).game.ply).toBe(0);
        visitor.send({ type: 'move', id: 'v1', game, ply: 0, cell: 8 });
        expect(await visitor.reply('v1')).toMatchObject({ type: 'error', code: 'not_signed_in' });
        visitor.send({ type: 'subscribe-lobby' });
        expect(await visitor.next((m) => m.type === 'error')).toMatchObject({ code: 'not_signed_in' });
        // A player's move reaches the visitor.
        x.socket.send({ type: 'move', id: 'x0', game, ply: 0, cell: 4 });
        expect(await x.socket.reply('x0')).toMatchObject({ type: 'ack' });
        expect((await visitor.next((m) => isState(m) && m.game.ply === 1)).type).toBe('state');
        await visitor.close();
      }
    });

    it('limits signed-out sockets per address', async () => {
      const opened: TestSocket[] = [];
      try {
        for (let i = 0; i < 20; i++) opened.push(await openSocket(t.url));
        await expect(openSocket(t.url)).rejects.toThrow('upgrade refused: 429');
        // A place comes back when a visitor leaves; signed-in sockets never count.
        await opened.pop()!.close();
        await new Promise((resolve) => setTimeout(resolve, 50));
        opened.push(await openSocket(t.url));
        const { cookie } = await signedIn(t.url);
        opened.push(await openSocket(t.url, cookie));
      } finally {
        await Promise.all(opened.map((s) => s.close()));
      }
    });

    it('is refused from a foreign Origin, even with a valid session', async () => {
      const { cookie } = await signedIn(t.url);
      await expect(openSocket(t.url, cookie, 'https://evil.example')).rejects.toThrow('upgrade refused: 403');
    });
  });

  describe('hostile frames', () => {
    it('answers garbage with an error and keeps the socket usable', async () => {
      const { socket } = await connected();
      socket.send('{not json');
      expect(await socket.next((m) => m.type === 'error')).toMatchObject({ code: 'bad_json' });
      socket.send({ type: 'launch-missiles' } as never);
      expect(await socket.next((m) => m.type === 'error')).toMatchObject({ code: 'bad_message' });
      socket.send(JSON.stringify({ type: 'move', id: 'a', game: 'AAAAAAAAAAAA', ply: 1e99, cell: 'x' }));
      expect(await socket.next((m) => m.type === 'error')).toMatchObject({ code: 'bad_message', id: 'a' });
      socket.send({ type: 'subscribe', game: 'AAAAAAAAAAAA' });
      expect(await socket.next((m) => m.type === 'error')).toMatchObject({ code: 'not_found' });
      expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    });

    it('closes the socket on a frame over 4 KiB', async () => {
      const { socket } = await connected();
      const closed = once(socket.ws, 'close');
      socket.send(JSON.stringify({ type: 'subscribe', game: 'x'.repeat(5000) }));
      const [code] = await closed;
      expect(code).toBe(1009);
    });

    it('rate limits a flood, then closes a client that keeps flooding', async () => {
      const { socket } = await connected();
      for (let i = 0; i < 40; i++) socket.send({ type: 'subscribe-lobby' });
      expect(await socket.next((m) => m.type === 'error')).toMatchObject({ code: 'rate_limited' });
      const closed = once(socket.ws, 'close');
      for (let i = 0; i < 200; i++) socket.send({ type: 'subscribe-lobby' });
      const [code] = await closed;
      expect(code).toBe(1008);
    });
  });

  describe('playing', () => {
    it('plays a full game: every move reaches the opponent and a spectator', async () => {
      const { game, x, o } = await liveGame();
      const spectator = await connected();
      spectator.socket.send({ type: 'subscribe', game });
      await spectator.socket.next(isState);

      const cells = [0, 3, 1, 4, 2];
      for (const [ply, cell] of cells.entries()) {
        const mover = ply % 2 === 0 ? x : o;
        mover.socket.send({ type: 'move', id: `m${ply}`, game, ply, cell });
        expect(await mover.socket.reply(`m${ply}`)).toEqual({ type: 'ack', id: `m${ply}` });
        for (const watcher of [x, o, spectator]) {
          const seen = await watcher.socket.next((m) => isState(m) && m.game.ply === ply + 1);
          expect((seen as Extract<ServerMessage, { type: 'state' }>).game.moves.at(-1)).toBe(cell);
        }
      }
      const final = await loadGame(t.gameDeps, game);
      expect(final?.result).toBe('x_won');
    });

    it('refuses a move out of turn with a readable error and the current state', async () => {
      const { game, o } = await liveGame();
      o.socket.send({ type: 'move', id: 'early', game, ply: 0, cell: 4 });
      expect(await o.socket.next((m) => m.type === 'error')).toMatchObject({ id: 'early', code: 'not_your_turn', message: 'It is not your turn.' });
      expect(await o.socket.next(isState)).toMatchObject({ game: { ply: 0 } });
    });

    it('sends the current state to a client that comes back after missing a move', async () => {
      const { game, x, o } = await liveGame();
      const stale = (await loadGame(t.gameDeps, game))!.version;
      await o.socket.close();
      await makeMove(t.gameDeps, x.id, game, 0, 4);
      const back = await openSocket(t.url, o.cookie);
      sockets.push(back);
      back.send({ type: 'subscribe', game });
      const state = await back.next(isState);
      expect(state.game.version).toBeGreaterThan(stale);
      expect(state.game.moves).toEqual([4]);
    });

    it('tells the waiting player when the opponent leaves and comes back', async () => {
      const { game, x, o } = await liveGame();
      x.socket.send({ type: 'move', id: 'm', game, ply: 0, cell: 4 });
      await x.socket.next((m) => isState(m) && m.game.ply === 1);
      await o.socket.close();
      const away = await x.socket.next((m) => isState(m) && m.game.awaySince.O !== null);
      expect(away.type).toBe('state');
      const back = await openSocket(t.url, o.cookie);
      sockets.push(back);
      back.send({ type: 'subscribe', game });
      await x.socket.next((m) => isState(m) && m.game.awaySince.O === null);
    });

    it('accepts a rematch over the socket and acks with the new game', async () => {
      const { game, x, o } = await liveGame();
      x.socket.send({ type: 'resign', id: 'r', game });
      await x.socket.next((m) => m.type === 'ack');
      x.socket.send({ type: 'rematch', id: 'offer', game });
      expect(await x.socket.next((m) => m.type === 'ack')).toEqual({ type: 'ack', id: 'offer', rematchId: null });
      await o.socket.next((m) => isState(m) && m.game.rematch.offeredBy === x.id);
      o.socket.send({ type: 'rematch', id: 'accept', game });
      const ack = await o.socket.next((m) => m.type === 'ack');
      expect(ack).toMatchObject({ rematchId: expect.stringMatching(/^[A-Za-z0-9]{12}$/) });
      await x.socket.next((m) => isState(m) && m.game.rematch.nextId !== null);
    });
  });

  describe('lobby', () => {
    it('tells lobby sockets when an open game appears', async () => {
      const watcher = await connected();
      watcher.socket.send({ type: 'subscribe-lobby' });
      // Give the subscription a moment to register before the event it should see.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const host = await connected();
      await createGame(t.gameDeps, host.id, { mode: 'open', level: 'perfect', playAs: 'X' });
      expect(await watcher.socket.next((m) => m.type === 'lobby')).toEqual({ type: 'lobby' });
    });

    it('drops an open game from other lobbies and watchers live when its creator deletes their account', async () => {
      const watcher = await connected();
      watcher.socket.send({ type: 'subscribe-lobby' });
      const host = await connected();
      const game = await createGame(t.gameDeps, host.id, { mode: 'open', level: 'perfect', playAs: 'X' });
      const lists = () => request(t.url).get('/lobby/lists').set('Cookie', watcher.cookie);
      expect((await lists()).text).toContain(game);
      const spectator = await openSocket(t.url);
      sockets.push(spectator);
      spectator.send({ type: 'subscribe', game });
      await spectator.next((m) => isState(m) && m.game.status === 'waiting');
      await new Promise((resolve) => setTimeout(resolve, 600)); // past the first notice's interval
      const noticesBefore = watcher.socket.messages.filter((m) => m.type === 'lobby').length;

      const account = await request(t.url).get('/account').set('Cookie', host.cookie);
      const deleted = await request(t.url)
        .post('/account/delete')
        .set('Cookie', host.cookie)
        .type('form')
        .send({ _csrf: csrfTokenIn(account.text), password: GOOD_PASSWORD });
      expect(deleted.status).toBe(303);

      const ended = await spectator.next((m) => isState(m) && m.game.status === 'aborted');
      expect(isState(ended) && ended.game.reason).toBe('cancelled');
      await watcher.socket.next(() => watcher.socket.messages.filter((m) => m.type === 'lobby').length > noticesBefore);
      expect((await lists()).text).not.toContain(game);
    });

    it('notifies again after a burst of changes, so the lists never stay stale', async () => {
      const watcher = await connected();
      watcher.socket.send({ type: 'subscribe-lobby' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const host = await connected();
      const notices = () => watcher.socket.messages.filter((m) => m.type === 'lobby').length;
      await createGame(t.gameDeps, host.id, { mode: 'open', level: 'perfect', playAs: 'X' });
      await watcher.socket.next((m) => m.type === 'lobby');
      // Two more games while the first notice's interval runs: a client that fetched the lists
      // on that notice has not seen them yet, so a second notice must follow.
      await createGame(t.gameDeps, host.id, { mode: 'open', level: 'perfect', playAs: 'O' });
      await createGame(t.gameDeps, host.id, { mode: 'open', level: 'easy', playAs: 'X' });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      // 2 when both fell inside the first interval (one at its end); more only on a very slow machine.
      expect(notices()).toBeGreaterThanOrEqual(2);
    });
  });
});
