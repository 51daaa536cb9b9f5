/**
 * Two app processes share nothing but one real PostgreSQL: X plays through instance A, O through
 * instance B, and each sees the other's moves live (LISTEN/NOTIFY between the instances).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerDatabase, databaseKinds } from '../helpers/database.js';
import { isState, openSocket, signedIn, type TestSocket } from '../helpers/live.js';
import { startScript, type Running } from '../helpers/process.js';
import request from 'supertest';
import { csrfTokenIn } from '../helpers/app.js';

async function startInstance(databaseUrl: string): Promise<{ process: Running; url: string }> {
  const running = startScript('src/server.ts', {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    SESSION_SECRET: 'shared-by-every-instance-of-this-test-0123456789',
    BCRYPT_COST: '4',
    LOG_LEVEL: 'info',
  });
  const line = await running.waitForLine(/"msg":"listening on /, 30_000);
  return { process: running, url: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}` };
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

describe.each(databaseKinds)('two app instances on one %s PostgreSQL', (kind) => {
  let database: Awaited<ReturnType<typeof createServerDatabase>>;
  let a: Awaited<ReturnType<typeof startInstance>>;
  let b: Awaited<ReturnType<typeof startInstance>>;
  const sockets: TestSocket[] = [];

  beforeAll(async () => {
    database = await createServerDatabase(kind);
    // Started together: the migrations' advisory lock lets exactly one of them apply.
    [a, b] = await Promise.all([startInstance(database.url), startInstance(database.url)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    for (const instance of [a, b]) {
      instance?.process.child.kill('SIGTERM');
      await instance?.process.exited;
    }
    await database?.drop();
  });

  it('plays a full game with X on instance A and O on instance B, each seeing the other live', async () => {
    const x = await signedIn(a.url);
    const o = await signedIn(b.url);

    // X creates an invitation on A; O follows the link on B and joins there.
    const xAgent = request.agent(a.url).set('Cookie', x.cookie);
    const lobby = await xAgent.get('/');
    const created = await xAgent.post('/games').type('form').send({ _csrf: csrfTokenIn(lobby.text), mode: 'friend', playAs: 'X' });
    const game = String(created.headers.location).split('/').pop()!;

    const xSocket = await openSocket(a.url, x.cookie);
    sockets.push(xSocket);
    xSocket.send({ type: 'subscribe', game });
    await xSocket.next((m) => isState(m) && m.game.status === 'waiting');

    const oAgent = request.agent(b.url).set('Cookie', o.cookie);
    const page = await oAgent.get(`/games/${game}`);
    expect((await oAgent.post(`/games/${game}/join`).type('form').send({ _csrf: csrfTokenIn(page.text) })).status).toBe(303);
    // The join on B reaches X's socket on A.
    await xSocket.next((m) => isState(m) && m.game.status === 'active', 2_000);

    const oSocket = await openSocket(b.url, o.cookie);
    sockets.push(oSocket);
    oSocket.send({ type: 'subscribe', game });
    await oSocket.next((m) => isState(m) && m.game.status === 'active');

    // X wins along the top row; O answers in the middle row.
    const latencies: number[] = [];
    const cells = [0, 3, 1, 4, 2];
    for (const [ply, cell] of cells.entries()) {
      const [mover, opponent] = ply % 2 === 0 ? [xSocket, oSocket] : [oSocket, xSocket];
      const sent = performance.now();
      mover.send({ type: 'move', id: `m${ply}`, game, ply, cell });
      const seen = await opponent.next((m) => isState(m) && m.game.ply === ply + 1, 1_000);
      latencies.push(performance.now() - sent);
      expect(seen.type === 'state' && seen.game.moves.at(-1)).toBe(cell);
    }
    const final = await xSocket.next((m) => isState(m) && m.game.status === 'finished');
    expect(final.type === 'state' && final.game.result).toBe('x_won');
    console.log(
      `two instances, move sent on one → opponent's socket on the other: p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
        `max ${Math.max(...latencies).toFixed(1)} ms over ${latencies.length} moves`,
    );
    for (const latency of latencies) expect(latency).toBeLessThan(1_000);
  });
});
