/**
 * An app restart: SIGTERM while requests are in flight (a login that runs bcrypt, a move), then a
 * new process on the same port and database. The requests in flight finish; live sockets close with
 * 1001 (going away); the clients reconnect with the last version they saw, get the current state,
 * and the game goes on from the same position.
 */
import { once } from 'node:events';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import pg from 'pg';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/ops/stack.js';
import { csrfTokenIn, GOOD_PASSWORD } from '../helpers/app.js';
import { startServerProcess, stopServerProcess, type ServerProcess } from '../helpers/cluster.js';
import { problemsOf, readGame } from '../helpers/consistency.js';
import { createServerDatabase, databaseKinds } from '../helpers/database.js';
import { isState, openSocket, signedIn, type TestSocket } from '../helpers/live.js';
import { logLines } from '../helpers/process.js';

/** A form post whose headers and first half of the body are sent now, and the rest on `finish()`. */
function postInTwoHalves(url: string, path: string, cookie: string, fields: Record<string, string>) {
  const body = new URLSearchParams(fields).toString();
  const half = Math.floor(body.length / 2);
  const target = new URL(url);
  const req = httpRequest({
    host: target.hostname,
    port: target.port,
    method: 'POST',
    path,
    headers: { Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(Buffer.byteLength(body)) },
  });
  const response = once(req, 'response').then(async (args) => {
    const res = args[0] as IncomingMessage;
    let text = '';
    for await (const chunk of res) text += String(chunk);
    return { status: res.statusCode!, headers: res.headers, text };
  });
  req.write(body.slice(0, half));
  return {
    response,
    finish: () => req.end(body.slice(half)),
  };
}

describe.each(databaseKinds)('an app restart with requests and live sockets in flight (%s PostgreSQL)', (kind) => {
  let database: Awaited<ReturnType<typeof createServerDatabase>>;
  let port: number;
  let first: ServerProcess | undefined;
  let second: ServerProcess | undefined;
  const sockets: TestSocket[] = [];
  const env = { BCRYPT_COST: '10' };

  beforeAll(async () => {
    database = await createServerDatabase(kind);
    port = await freePort();
    first = await startServerProcess(database.url, env, port);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close().catch(() => undefined)));
    await stopServerProcess(first);
    await stopServerProcess(second);
    await database?.drop();
  });

  it('finishes the requests in flight, says "going away", and the game continues after the restart', { timeout: 90_000 }, async () => {
    const url = first!.url;
    const x = await signedIn(url);
    const o = await signedIn(url);
    const xAgent = request.agent(url).set('Cookie', x.cookie);
    const oAgent = request.agent(url).set('Cookie', o.cookie);
    const created = await xAgent.post('/games').type('form').send({ _csrf: csrfTokenIn((await xAgent.get('/')).text), mode: 'friend', playAs: 'X' });
    const game = String(created.headers.location).split('/').pop()!;
    const gamePage = await oAgent.get(`/games/${game}`);
    expect((await oAgent.post(`/games/${game}/join`).type('form').send({ _csrf: csrfTokenIn(gamePage.text) })).status).toBe(303);

    const xs = await openSocket(url, x.cookie);
    const os = await openSocket(url, o.cookie);
    sockets.push(xs, os);
    for (const s of [xs, os]) {
      s.send({ type: 'subscribe', game });
      await s.next((m) => isState(m) && m.game.status === 'active');
    }
    // X 4, O 0, X 8 over the socket.
    for (const [ply, cell] of [4, 0, 8].entries()) {
      (ply % 2 === 0 ? xs : os).send({ type: 'move', id: `m${ply}`, game, ply, cell });
      expect(await (ply % 2 === 0 ? xs : os).reply(`m${ply}`)).toMatchObject({ type: 'ack' });
    }
    const seen = await xs.next((m) => isState(m) && m.game.ply === 3);
    const lastVersion = seen.type === 'state' ? seen.game.version : -1;

    // In flight when SIGTERM arrives: a login (bcrypt at cost 10) and O's move, both half sent.
    const visitor = request.agent(url);
    const loginPage = await visitor.get('/login');
    const visitorCookie = String(loginPage.headers['set-cookie']).split(';')[0]!;
    const login = postInTwoHalves(url, '/login', visitorCookie, { _csrf: csrfTokenIn(loginPage.text), username: x.username, password: GOOD_PASSWORD });
    const move = postInTwoHalves(url, `/games/${game}/moves`, o.cookie, { _csrf: csrfTokenIn(gamePage.text), ply: '3', cell: '2' });
    const closes = [xs, os].map((s) => once(s.ws, 'close').then((args) => args[0] as number));
    // Let the server read both requests' headers.
    await new Promise((resolve) => setTimeout(resolve, 300));
    first!.process.child.kill('SIGTERM');
    const [xCode, oCode] = await Promise.all(closes);
    expect(xCode).toBe(1001);
    expect(oCode).toBe(1001);
    // The server is stopping, but the half-sent requests still get their answer.
    login.finish();
    move.finish();
    const [loggedIn, moved] = await Promise.all([login.response, move.response]);
    expect(loggedIn.status).toBe(303);
    const newCookie = (loggedIn.headers['set-cookie'] ?? []).find((c) => c.startsWith('ttt.sid='))?.split(';')[0];
    expect(newCookie).toBeDefined();
    expect(moved.status).toBe(303);
    expect(moved.headers.location).toBe(`/games/${game}`);
    // It stopped by itself, cleanly, and refused nothing it had accepted.
    const ended = await first!.process.exited;
    expect(ended.code).toBe(0);
    expect(logLines(ended.stdout).map((l) => l.msg)).toContain('stopped');
    expect(logLines(ended.stdout).filter((l) => (l.level ?? 0) >= 50)).toEqual([]);

    // A new process on the same port and database.
    second = await startServerProcess(database.url, env, port);
    expect(second.url).toBe(url);
    expect((await request(url).get('/account').set('Cookie', newCookie!)).status).toBe(200);

    // X's page reconnects with the last version it saw and gets the position as it is now.
    const xBack = await openSocket(url, x.cookie);
    const oBack = await openSocket(url, o.cookie);
    sockets.push(xBack, oBack);
    xBack.send({ type: 'subscribe', game });
    const resynced = await xBack.next(isState);
    expect(resynced.game.version).toBeGreaterThan(lastVersion);
    expect(resynced.game.moves).toEqual([4, 0, 8, 2]);
    oBack.send({ type: 'subscribe', game });
    await oBack.next(isState);

    // And the game goes on from there: X 6, O 3, X 7 wins along the bottom row.
    for (const [i, cell] of [6, 3, 7].entries()) {
      const ply = 4 + i;
      const mover = ply % 2 === 0 ? xBack : oBack;
      mover.send({ type: 'move', id: `after${ply}`, game, ply, cell });
      expect(await mover.reply(`after${ply}`)).toEqual({ type: 'ack', id: `after${ply}` });
    }
    const final = await oBack.next((m) => isState(m) && m.game.status === 'finished');
    expect(final.type === 'state' && final.game.result).toBe('x_won');

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const log = await readGame(client, game);
      expect(problemsOf(log)).toEqual([]);
      expect(log.moves.map((m) => m.cell)).toEqual([4, 0, 8, 2, 6, 3, 7]);
    } finally {
      await client.end();
    }
  });
});
