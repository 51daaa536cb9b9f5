/**
 * Database round trips per page, counted on the driver: a signed-in game page is the session read
 * and one game read, and no page makes one query per game it lists (no N+1).
 */
import pg from 'pg';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGame, joinGame, makeMove } from '../../src/game/service.js';
import { registerUser, startTestApp, type Agent, type TestApp } from '../helpers/app.js';
import { databaseKinds } from '../helpers/database.js';

describe.each(databaseKinds)('queries per page on the %s database', (kind) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
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

  it('a signed-in game page costs the session read and one game read', async () => {
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
    // Watching someone else's game costs the same.
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
});
