/**
 * Six people at once on a fresh `npm start` with no configuration: the embedded server. These are
 * the cases that broke the PGlite-based embedded mode (its eight connections shared one backend
 * session, so one request's unnamed statement or portal was overwritten by another's): 500s and
 * 503s on simultaneous creates and joins, and legal moves refused as `stale` or answered with
 * `server_error` when six games were played at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csrfTokenIn, GOOD_PASSWORD, sessionCookie, uniqueName } from '../helpers/app.js';
import { openSocket, type TestSocket } from '../helpers/live.js';
import { logLines, startScript, type Running } from '../helpers/process.js';

const PEOPLE = 6;
const ROUNDS = 4;

interface Person {
  agent: ReturnType<typeof request.agent>;
  cookie: string;
  token: string;
}

describe('six people at once on the embedded default', () => {
  let dataDir: string;
  let server: Running;
  let origin: string;
  const people: Person[] = [];
  const statuses: number[] = [];
  const sockets: TestSocket[] = [];

  /** Every answer is kept: the test ends by asserting none was a 5xx. */
  const record = <T extends { status: number }>(res: T): T => {
    statuses.push(res.status);
    return res;
  };

  async function signUp(): Promise<Person> {
    const agent = request.agent(origin);
    const page = record(await agent.get('/register'));
    const username = uniqueName('six');
    const res = record(await agent.post('/register').type('form').send({ _csrf: csrfTokenIn(page.text), username, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD }));
    const cookie = sessionCookie(res);
    if (res.status !== 303 || !cookie) throw new Error(`registration failed with ${res.status}`);
    const lobby = record(await agent.get('/'));
    return { agent, cookie, token: csrfTokenIn(lobby.text) };
  }

  const post = async (p: Person, url: string, fields: Record<string, string>) =>
    record(await p.agent.post(url).type('form').send({ _csrf: p.token, ...fields }));

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'ttt-six-'));
    server = startScript('src/server.ts', { DATA_DIR: dataDir, PORT: '0', BCRYPT_COST: '4', LOG_LEVEL: 'info' });
    const line = await server.waitForLine(/"msg":"listening on /, 90_000);
    origin = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
    expect(JSON.parse(line)).toMatchObject({ database: 'embedded' });
    people.push(...(await Promise.all(Array.from({ length: PEOPLE }, signUp))));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    server?.child.kill('SIGINT');
    await server?.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('six friend games created at the same instant, then six joins at the same instant', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const created = await Promise.all(people.map((p) => post(p, '/games', { mode: 'friend', playAs: 'X' })));
      const games = created.map((res) => String(res.headers.location));
      expect(games.every((g) => /^\/games\/[A-Za-z0-9]{12}$/.test(g))).toBe(true);
      // Each person joins the next person's game.
      const joined = await Promise.all(people.map((p, i) => post(p, `${games[(i + 1) % PEOPLE]}/join`, {})));
      expect(joined.map((r) => r.status)).toEqual(people.map(() => 303));
    }
  });

  it('bursts of six games against the computer mixed with six lobby loads', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const answers = await Promise.all([
        ...people.map((p) => post(p, '/games', { mode: 'ai', level: 'perfect', playAs: 'X' })),
        ...people.map(async (p) => record(await p.agent.get('/'))),
      ]);
      expect(answers.map((r) => r.status)).toEqual([...people.map(() => 303), ...people.map(() => 200)]);
    }
  });

  it('six friend games played at the same time over the WebSocket: every legal move acknowledged', async () => {
    const created = await Promise.all(people.map((p) => post(p, '/games', { mode: 'friend', playAs: 'X' })));
    const games = created.map((res) => String(res.headers.location).split('/').pop()!);
    // Person i plays X in game i; person i+1 joins it as O.
    await Promise.all(people.map((p, i) => post(p, `/games/${games[(i + PEOPLE - 1) % PEOPLE]}/join`, {})));
    const socketOf = await Promise.all(people.map((p) => openSocket(origin, p.cookie)));
    sockets.push(...socketOf);

    // X: 0, 1, 2 wins on ply 4; O answers 3 and 4.
    const cells = [0, 3, 1, 4, 2];
    const errors: unknown[] = [];
    await Promise.all(
      games.map(async (game, i) => {
        const seat = [socketOf[i]!, socketOf[(i + 1) % PEOPLE]!];
        for (const [ply, cell] of cells.entries()) {
          const id = `g${i}p${ply}`;
          seat[ply % 2]!.send({ type: 'move', id, game, ply, cell });
          const reply = await seat[ply % 2]!.reply(id);
          if (reply.type !== 'ack') errors.push(reply);
        }
      }),
    );
    expect(errors).toEqual([]);
    for (const socket of socketOf) expect(socket.messages.filter((m) => m.type === 'error')).toEqual([]);
    // Every game ended as played.
    for (const [i, game] of games.entries()) {
      const page = record(await people[i]!.agent.get(`/games/${game}`));
      expect(page.text).toContain('You won');
    }
  });

  it('answered every request without a 5xx, and logged no error', () => {
    expect(statuses.length).toBeGreaterThan(100);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(logLines(server.stdout).filter((l) => (l.level ?? 0) >= 50)).toEqual([]);
  });
});
