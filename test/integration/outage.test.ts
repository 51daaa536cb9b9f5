/**
 * The database goes away while people play, then comes back: pages answer 503 at once, live
 * sockets are told to reconnect, /readyz fails; afterwards everything works again without
 * restarting the app, and no committed move is lost.
 */
import { once } from 'node:events';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfTokenIn } from '../helpers/app.js';
import { isState, openSocket, signedIn } from '../helpers/live.js';
import { canRunPrivatePostgres, createPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.js';
import { startScript, type Running } from '../helpers/process.js';

describe.skipIf(!canRunPrivatePostgres)('a database outage', () => {
  let pg: PrivatePostgres;
  let app: Running;
  let url: string;

  beforeAll(async () => {
    pg = await createPrivatePostgres();
    app = startScript('src/server.ts', {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: pg.url,
      SESSION_SECRET: 'outage-test-secret-0123456789abcdef',
      BCRYPT_COST: '4',
      LOG_LEVEL: 'info',
    });
    const line = await app.waitForLine(/"msg":"listening on /, 30_000);
    url = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
  }, 60_000);

  afterAll(async () => {
    app?.child.kill('SIGTERM');
    await app?.exited;
    pg?.remove();
  });

  it('answers 503 within a second while it is down, and recovers by itself with nothing lost', { timeout: 90_000 }, async () => {
    const { cookie } = await signedIn(url);
    const agent = request.agent(url).set('Cookie', cookie);
    const lobby = await agent.get('/');
    const created = await agent.post('/games').type('form').send({ _csrf: csrfTokenIn(lobby.text), mode: 'ai', level: 'easy', playAs: 'X' });
    const game = String(created.headers.location);
    const page = await agent.get(game);
    await agent.post(`${game}/moves`).type('form').send({ _csrf: csrfTokenIn(page.text), ply: '0', cell: '4' });

    const socket = await openSocket(url, cookie);
    socket.send({ type: 'subscribe', game: game.split('/').pop()! });
    const before = await socket.next(isState);
    expect(before.game.moves).toHaveLength(2);

    const closed = once(socket.ws, 'close');
    pg.stop();

    const [code] = await closed;
    expect(code).toBe(1013);
    for (const path of ['/', game, '/readyz']) {
      const started = Date.now();
      const res = await agent.get(path);
      expect(res.status, path).toBe(503);
      expect(Date.now() - started, path).toBeLessThan(1_000);
    }
    const down = await agent.get(game);
    expect(down.text).toContain('We cannot reach our database right now.');
    expect(down.headers['retry-after']).toBe('5');
    await expect(openSocket(url, cookie)).rejects.toThrow('upgrade refused: 503');

    pg.start();
    await expect.poll(async () => (await agent.get('/readyz')).status, { timeout: 20_000, interval: 250 }).toBe(200);
    const after = await agent.get(game);
    expect(after.status).toBe(200);
    expect(after.text.match(/aria-label="Row \d, column \d, [XO]"/g)).toHaveLength(2);

    // Live play resumes where it was.
    const back = await openSocket(url, cookie);
    back.send({ type: 'subscribe', game: game.split('/').pop()! });
    const state = await back.next(isState);
    expect(state.game.moves).toEqual(before.game.moves);
    const free = [0, 1, 2, 3, 5, 6, 7, 8].find((c) => !state.game.moves.includes(c))!;
    back.send({ type: 'move', id: 'after', game: state.game.id, ply: state.game.ply, cell: free });
    expect(await back.reply('after')).toEqual({ type: 'ack', id: 'after' });
    await back.close();
  });
});
