/**
 * Counts database round trips per request: builds the real site (createApplication from
 * src/application.ts, with its live WebSocket) on a pg.Pool whose every connection counts and records its
 * queries, then makes requests one at a time and prints how many statements each needed, and which.
 *
 *   node --import tsx bench/clients/queries.ts <input.json>
 *   ({ databaseUrl, sessionSecret, pageGame, pageCookie, x, o, game })
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import pino from 'pino';
import WebSocket from 'ws';
import { createApplication } from '../../src/application.js';
import { loadConfig } from '../../src/config.js';
import { postgresBus } from '../../src/db/events.js';
import { emit, sleep } from '../lib/common.js';

const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as {
  databaseUrl: string;
  sessionSecret: string;
  pageGame: string;
  pageCookie: string;
  x: string;
  o: string;
  game: string;
};

let recorded: string[] = [];

/** A pool whose connections record every statement they send (pool.query goes through them too). */
function countingPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const first = args[0];
      const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? String(first));
      recorded.push(text.replace(/\s+/g, ' ').trim().slice(0, 90));
      return query(...args);
    };
  });
  return pool;
}

async function counted(work: () => Promise<unknown>): Promise<{ count: number; statements: string[] }> {
  recorded = [];
  await work();
  // Whatever the request started after answering (a live event's state read) counts too.
  await sleep(150);
  const statements = recorded;
  recorded = [];
  return { count: statements.length, statements };
}

async function main() {
  const logger = pino({ level: 'silent' });
  const pool = countingPool(input.databaseUrl);
  const bus = await postgresBus(pool, input.databaseUrl, logger);
  const config = loadConfig({ NODE_ENV: 'production', SESSION_SECRET: input.sessionSecret, LOG_LEVEL: 'silent', DATABASE_URL: input.databaseUrl });
  const application = await createApplication(config, { db: { pool, url: input.databaseUrl }, logger, bus });
  const { server } = application;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const get = (path: string, cookie?: string) => async () => {
    const res = await fetch(base + path, { headers: cookie ? { Cookie: cookie } : {}, redirect: 'manual' });
    await res.text();
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status}`);
  };
  const page = `/games/${input.pageGame}`;
  const firstView = await counted(get(page, input.pageCookie));
  const gamePage = await counted(get(page, input.pageCookie));
  const signedOut = await counted(get(page));
  const lobby = await counted(get('/', input.pageCookie));

  // One whole game over the live WebSocket, X and O on this instance.
  const sockets = await Promise.all(
    [input.x, input.o].map(
      (cookie) =>
        new Promise<{ ws: WebSocket; messages: { type: string; id?: string; game?: { ply: number } }[] }>((resolve, reject) => {
          const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`, { headers: { Cookie: cookie, Origin: base } });
          const messages: { type: string; id?: string; game?: { ply: number } }[] = [];
          ws.on('message', (data) => messages.push(JSON.parse(String(data)) as (typeof messages)[number]));
          ws.once('open', () => resolve({ ws, messages }));
          ws.once('error', reject);
        }),
    ),
  );
  const until = async (check: () => boolean) => {
    const deadline = Date.now() + 5_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('no answer from the live socket');
      await sleep(2);
    }
  };
  const upgrade = await counted(async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`, { headers: { Cookie: input.x, Origin: base } });
    await once(ws, 'open');
    ws.terminate();
  });
  const subscribe = await counted(async () => {
    for (const s of sockets) s.ws.send(JSON.stringify({ type: 'subscribe', game: input.game }));
    await until(() => sockets.every((s) => s.messages.some((m) => m.type === 'state')));
  });
  const SEQ = [0, 1, 2, 4, 3, 5, 7, 6, 8];
  const moves: { count: number; statements: string[] }[] = [];
  for (let ply = 0; ply < SEQ.length; ply++) {
    const mover = sockets[ply % 2]!;
    const opponent = sockets[(ply + 1) % 2]!;
    moves.push(
      await counted(async () => {
        mover.ws.send(JSON.stringify({ type: 'move', id: `q${ply}`, game: input.game, ply, cell: SEQ[ply] }));
        await until(() => mover.messages.some((m) => m.type === 'ack' && m.id === `q${ply}`) && opponent.messages.some((m) => m.type === 'state' && m.game?.ply === ply + 1));
      }),
    );
  }
  for (const s of sockets) s.ws.terminate();
  await sleep(150);

  emit({
    gamePage,
    gamePageFirstView: firstView,
    gamePageSignedOut: signedOut,
    lobby,
    wsUpgrade: upgrade,
    subscribeTwoPlayers: subscribe,
    move: moves[1]!,
    movesPerGame: moves.map((m) => m.count),
    finalMove: moves[moves.length - 1]!,
  });
  await application.close({ force: true });
  await bus.close();
  await pool.end();
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
