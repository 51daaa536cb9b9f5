/**
 * Database round trips per page, counted on the driver: a signed-in game page is the session read
 * and one game read, no page makes one query per game it lists (no N+1), and a live move is one
 * write (plus its share of a NOTIFY), with no read of the game before or after.
 */
import pg from 'pg';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGame, joinGame, makeMove } from '../../src/game/service.js';
import { registerUser, startTestApp, type Agent, type TestApp } from '../helpers/app.js';
import { databaseKinds } from '../helpers/database.js';
import { isState, openSocket, signedIn, type TestSocket } from '../helpers/live.js';

describe.each(databaseKinds)('queries per page on the %s database', (kind) => {
  let t: TestApp;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    t = await startTestApp(kind, { listen: true });
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await t?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  async function player(): Promise<{ id: number; username: string; agent: Agent }> {
    const agent = request.agent(t.app);
    const { username } = await registerUser(agent);
    const { rows } = await t.db.pool.query<{ id: number }>('SELECT id FROM users WHERE username = $1', [username]);
    return { id: rows[0]!.id, username, agent };
  }

  /** The statements sent to the database while `work` runs (every connection, pool or not). */
  async function statementsOf(work: () => Promise<unknown>): Promise<string[]> {
    const statements: string[] = [];
    const original = pg.Client.prototype.query;
    vi.spyOn(pg.Client.prototype, 'query').mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      const first = args[0] as string | { text?: string };
      statements.push((typeof first === 'string' ? first : (first.text ?? '')).replace(/\s+/g, ' ').trim());
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as never);
    await work();
    vi.restoreAllMocks();
    return statements;
  }

  const ok = (res: request.Response) => {
    expect(res.status).toBe(200);
    return res;
  };

  it('a signed-in game page costs the session read and one game read, plus a player’s presence now and then', async () => {
    const x = await player();
    const o = await player();
    const id = await createGame(t.gameDeps, x.id, { mode: 'friend', level: 'perfect', playAs: 'X' });
    await joinGame(t.gameDeps, o.id, id);
    for (const [ply, cell] of [4, 0, 8].entries()) await makeMove(t.gameDeps, ply % 2 === 0 ? x.id : o.id, id, ply, cell);

    await x.agent.get(`/games/${id}`); // the first view may refresh the session's expiry
    const statements = await statementsOf(async () => ok(await x.agent.get(`/games/${id}`)));
    expect(statements).toHaveLength(2);
    expect(statements[0]).toMatch(/FROM session s LEFT JOIN users u/);
    expect(statements[1]).toMatch(/FROM games g/);
    // A player's page load is presence (play without JavaScript): when their last saved load is
    // more than a few seconds old, one write, and one notice so that watchers see it.
    await t.db.pool.query('DELETE FROM game_presence WHERE user_id = $1', [x.id]);
    const present = await statementsOf(async () => ok(await x.agent.get(`/games/${id}`)));
    expect(present).toHaveLength(4);
    expect(present[2]).toMatch(/INSERT INTO game_presence/);
    expect(present[3]).toMatch(/pg_notify/);
    // Watching someone else's game costs the two reads only.
    const watcher = await player();
    await watcher.agent.get(`/games/${id}`);
    expect(await statementsOf(async () => ok(await watcher.agent.get(`/games/${id}`)))).toHaveLength(2);
  });

  it('the lobby and a profile make as many queries with twenty games as with one', async () => {
    const me = await player();
    const rival = await player();
    const playOne = async () => {
      const id = await createGame(t.gameDeps, me.id, { mode: 'friend', level: 'perfect', playAs: 'X' });
      await joinGame(t.gameDeps, rival.id, id);
      return id;
    };
    await playOne();
    await me.agent.get('/');
    const lobbyWithOne = await statementsOf(async () => ok(await me.agent.get('/')));
    const profileWithOne = await statementsOf(async () => ok(await me.agent.get(`/users/${me.username}`)));

    for (let i = 0; i < 19; i++) await playOne();
    for (let i = 0; i < 5; i++) await createGame(t.gameDeps, rival.id, { mode: 'open', level: 'perfect', playAs: 'random' });
    const lobby = await me.agent.get('/');
    expect(lobby.text.match(/\/games\/[A-Za-z0-9]{12}/g)!.length).toBeGreaterThanOrEqual(20);
    expect(await statementsOf(async () => ok(await me.agent.get('/')))).toHaveLength(lobbyWithOne.length);
    expect(await statementsOf(async () => ok(await me.agent.get(`/users/${me.username}`)))).toHaveLength(profileWithOne.length);
    expect(lobbyWithOne.length).toBeLessThanOrEqual(5);
  });
  it('a move over the WebSocket is one write and one NOTIFY: the game is not read before or after it', async () => {
    const players = await Promise.all([signedIn(t.url), signedIn(t.url)]);
    const ids = await Promise.all(
      players.map(async (p) => (await t.db.pool.query<{ id: number }>('SELECT id FROM users WHERE username = $1', [p.username])).rows[0]!.id),
    );
    const game = await createGame(t.gameDeps, ids[0]!, { mode: 'friend', level: 'perfect', playAs: 'X' });
    await joinGame(t.gameDeps, ids[1]!, game);
    const [x, o] = await Promise.all(players.map((p) => openSocket(t.url, p.cookie)));
    sockets.push(x!, o!);
    for (const socket of [x!, o!]) {
      socket.send({ type: 'subscribe', game });
      await socket.next((m) => isState(m) && m.game.status === 'active');
    }
    // Let the presence writes and reads that subscribing starts finish first.
    await new Promise((resolve) => setTimeout(resolve, 300));

    const statements = await statementsOf(async () => {
      x!.send({ type: 'move', id: 'counted', game, ply: 0, cell: 4 });
      expect(await x!.reply('counted')).toEqual({ type: 'ack', id: 'counted' });
      await o!.next((m) => isState(m) && m.game.ply === 1);
      await new Promise((resolve) => setTimeout(resolve, 200)); // anything the event started
    });
    expect(statements.filter((s) => /^WITH game AS \( UPDATE games/.test(s))).toHaveLength(1);
    expect(statements.filter((s) => /FROM games/.test(s) && !/^WITH game AS/.test(s))).toEqual([]);
    expect(statements).toHaveLength(2);
  });
});
