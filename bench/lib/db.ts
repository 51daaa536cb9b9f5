/**
 * The bench's own database: a fresh `ttt_bench_<random>` on the server named by DATABASE_URL,
 * migrated with the app's migrations, seeded directly in SQL (users, signed-in sessions, games),
 * and dropped at the end. Seeding in SQL instead of through the forms keeps setup to a second:
 * registering 400 players at bcrypt cost 12 would take minutes, and logging them in would trip
 * the login rate limits the storm workload measures.
 */
import { createHmac, randomBytes } from 'node:crypto';
import bcrypt from 'bcrypt';
import pg from 'pg';
import pino from 'pino';
import { migrate } from '../../src/db/migrate.js';
import { SESSION_COOKIE, SESSION_IDLE_MS } from '../../src/web/session.js';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const BENCH_PASSWORD = 'bench password 1';

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

export interface BenchDatabase {
  url: string;
  name: string;
  serverVersion: string;
  drop(): Promise<void>;
}

export async function createBenchDatabase(serverUrl: string): Promise<BenchDatabase> {
  const name = `ttt_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const { rows } = await admin.query<{ server_version: string }>('SHOW server_version');
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabaseName(serverUrl, name);
  await migrate(url, pino({ level: 'silent' }));
  return {
    url,
    name,
    serverVersion: rows[0]?.server_version ?? 'unknown',
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** express-session's cookie: `s:<sid>.<HMAC-SHA256 of sid, base64 without padding>`, URL-encoded. */
export function signedCookie(sid: string, secret: string): string {
  const signature = createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '');
  return `${SESSION_COOKIE}=${encodeURIComponent(`s:${sid}.${signature}`)}`;
}

export interface SeedOptions {
  sessionSecret: string;
  /** Parallel game slots: each has two players and `gamesPerSlot` fresh games. */
  slots: number;
  gamesPerSlot: number;
  /** Games for the pgbench baseline: clients × games per client × invocations. */
  pgbenchGames: number;
  /** Finished games already played (9 moves each), so the tables are not empty. */
  historyGames: number;
}

export interface Slot {
  /** Cookie of the player who is X in every game of the slot, and of O. */
  x: string;
  o: string;
  games: string[];
}

export interface Seed {
  /** A friend game four moves in (X 0, O 4, X 8, O 2), seen by its X player. */
  pageGame: string;
  pageCookie: string;
  pageUser: { id: number; username: string };
  /** A signed-in user for the idle sockets. */
  idleCookie: string;
  slots: Slot[];
  /** A user id the pgbench moves can name as player. */
  pgbenchUser: number;
}

export const slotGameId = (slot: number, game: number) => `s${String(slot).padStart(4, '0')}g${String(game).padStart(6, '0')}`;
export const pgbenchGameId = (n: number) => `b${String(n).padStart(11, '0')}`;
export const PAGE_GAME = 'pagegame0001';

export async function seed(url: string, options: SeedOptions): Promise<Seed> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    // One real cost-12 hash (the production default), shared by every bench account.
    const hash = await bcrypt.hash(BENCH_PASSWORD, 12);
    const names = ['pagex', 'pageo', 'idler', 'pgbench'];
    for (let s = 0; s < options.slots; s++) names.push(`slot${s}x`, `slot${s}o`);
    const { rows: users } = await client.query<{ id: number; username: string; validAfter: number }>(
      `INSERT INTO users (username, password_hash)
       SELECT name, $2 FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n) ORDER BY n
       RETURNING id, username, (extract(epoch FROM sessions_valid_after) * 1000)::float8 AS "validAfter"`,
      [names, hash],
    );
    const byName = new Map(users.map((u) => [u.username, u]));
    const user = (name: string) => byName.get(name)!;

    // A session per signed-in user, as express-session + connect-pg-simple would have stored it.
    const now = Date.now();
    const sids: string[] = [];
    const sessions: string[] = [];
    const cookieOf = new Map<string, string>();
    for (const name of names) {
      if (name === 'pgbench' || name === 'pageo') continue;
      const sid = randomBytes(24).toString('base64url');
      const u = user(name);
      sids.push(sid);
      sessions.push(
        JSON.stringify({
          cookie: { originalMaxAge: SESSION_IDLE_MS, expires: new Date(now + SESSION_IDLE_MS).toISOString(), httpOnly: true, path: '/', sameSite: 'lax', secure: false },
          userId: u.id,
          loginAt: u.validAfter,
          refreshedAt: now,
        }),
      );
      cookieOf.set(name, signedCookie(sid, options.sessionSecret));
    }
    await client.query(
      `INSERT INTO session (sid, sess, expire)
       SELECT sid, sess::json, now() + interval '14 days' FROM unnest($1::text[], $2::text[]) AS t(sid, sess)`,
      [sids, sessions],
    );

    // The page's game: a friend game four moves in, X to move.
    const px = user('pagex').id;
    const po = user('pageo').id;
    await client.query(
      `INSERT INTO games (id, variant, mode, created_by, player_x, player_o, status, board, ply, version, turn_started_at, created_at, updated_at)
       VALUES ($1, 'classic', 'friend', $2, $2, $3, 'active', 'X.O.O...X', 4, 6, now(), now(), now())`,
      [PAGE_GAME, px, po],
    );
    await client.query(
      `INSERT INTO moves (game_id, variant, ply, cell, mark, player_id, created_at)
       VALUES ($1, 'classic', 1, 0, 'X', $2, now()), ($1, 'classic', 2, 4, 'O', $3, now()), ($1, 'classic', 3, 8, 'X', $2, now()), ($1, 'classic', 4, 2, 'O', $3, now())`,
      [PAGE_GAME, px, po],
    );

    // Fresh friend games for the WebSocket players, X to move at ply 0.
    const slotX = Array.from({ length: options.slots }, (_, s) => user(`slot${s}x`).id);
    const slotO = Array.from({ length: options.slots }, (_, s) => user(`slot${s}o`).id);
    await client.query(
      `INSERT INTO games (id, variant, board, mode, created_by, player_x, player_o, status, version, turn_started_at, created_at, updated_at)
       SELECT 's' || lpad((p.slot - 1)::text, 4, '0') || 'g' || lpad(g::text, 6, '0'), 'classic', '.........', 'friend', p.x, p.x, p.o, 'active', 2, now(), now(), now()
         FROM unnest($1::int[], $2::int[]) WITH ORDINALITY AS p(x, o, slot), generate_series(0, $3 - 1) AS g`,
      [slotX, slotO, options.gamesPerSlot],
    );

    // Games for pgbench: the same table, so the same indexes and constraints.
    const pgb = user('pgbench').id;
    await client.query(
      `INSERT INTO games (id, variant, board, mode, created_by, player_x, status, version, turn_started_at, created_at, updated_at)
       SELECT 'b' || lpad(g::text, 11, '0'), 'classic', '.........', 'friend', $1, $1, 'active', 2, now(), now(), now()
         FROM generate_series(0, $2 - 1) AS g`,
      [pgb, options.pgbenchGames],
    );
    // History, as a site that has been up a while has: finished games with their moves, and the
    // presence rows their players left. Without it the planner sees empty moves and presence
    // tables and plans sequential scans of them, which the hot queries, prepared once per
    // connection, would keep while those tables grow during the run.
    await client.query(
      `WITH history AS (
         INSERT INTO games (id, variant, mode, created_by, player_x, player_o, status, result, reason, board, ply, version,
                            turn_started_at, created_at, updated_at, finished_at)
         SELECT 'h' || lpad(g::text, 11, '0'), 'classic', 'friend', $1, $1, $2, 'finished', 'draw', 'full', 'XOXXOOOXX', 9, 11,
                now(), now(), now(), now()
           FROM generate_series(0, $3 - 1) AS g
         RETURNING id
       ), moves AS (
         INSERT INTO moves (game_id, variant, ply, cell, mark, player_id, created_at)
         SELECT h.id, 'classic', m.ply, m.cell, CASE WHEN m.ply % 2 = 1 THEN 'X' ELSE 'O' END, CASE WHEN m.ply % 2 = 1 THEN $1 ELSE $2 END, now()
           FROM history h, unnest('{0,1,2,4,3,5,7,6,8}'::smallint[]) WITH ORDINALITY AS m (cell, ply)
       )
       INSERT INTO game_presence (game_id, user_id, instance_id, connections, seen_at)
       SELECT h.id, u.id, 'gone', 0, now() FROM history h, unnest(ARRAY[$1, $2]::int[]) AS u (id)`,
      [px, po, options.historyGames],
    );
    await client.query('VACUUM ANALYZE');

    return {
      pageGame: PAGE_GAME,
      pageCookie: cookieOf.get('pagex')!,
      pageUser: { id: px, username: 'pagex' },
      idleCookie: cookieOf.get('idler')!,
      slots: Array.from({ length: options.slots }, (_, s) => ({
        x: cookieOf.get(`slot${s}x`)!,
        o: cookieOf.get(`slot${s}o`)!,
        games: Array.from({ length: options.gamesPerSlot }, (_, g) => slotGameId(s, g)),
      })),
      pgbenchUser: pgb,
    };
  } finally {
    await client.end();
  }
}
