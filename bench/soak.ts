/**
 * Soak: simulated players (WebSocket bots) play continuously against two app instances behind
 * nginx (the stack script) on a fresh PostgreSQL database, then the log is checked against what
 * the bots sent and had acknowledged.
 *
 *   npm run soak                                  200 bots, 10 minutes
 *   SOAK_SECONDS=120 SOAK_BOTS=100 npm run soak   shorter, fewer
 *
 * DATABASE_URL names the server (default postgres://postgres@127.0.0.1:5432/postgres); a fresh
 * database is created on it and dropped afterwards (SOAK_KEEP_DB=1 keeps it). Four in five bots
 * play in pairs (friend games, then rematches), one in five against the computer. Each bot comes
 * from its own loopback address (127.0.x.y), as players come from their own, so nginx's and the
 * app's per-address limits apply to each as they would in production.
 *
 * Checked and printed: moves lost (acknowledged, not in the moves table) and duplicated (in the
 * table, never acknowledged, or acknowledged twice), game-log consistency, 5xx answers (the bots'
 * own count and nginx's access log), server errors on the sockets, and the resident memory of each
 * instance sampled every few seconds: its growth from the end of warm-up to the end.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import WebSocket from 'ws';
import type { GameState } from '../src/game/model.js';
import type { ServerMessage } from '../src/game/protocol.js';
import { freePort, startStack, type Stack } from '../src/ops/stack.js';
import { problemsInAllGames } from '../test/helpers/consistency.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PASSWORD = 'soak test password 42';

export interface SoakOptions {
  /** A PostgreSQL server URL; a fresh database is made on it. */
  databaseUrl: string;
  seconds: number;
  bots: number;
  /** Share of bots that play the computer (the others play in pairs). */
  computerShare?: number;
  /** Seconds of warm-up before memory counts (default: a fifth of the run, at most 60). */
  warmupSeconds?: number;
  /** How long a bot thinks before a move, in ms. */
  thinkMs?: [number, number];
  bcryptCost?: number;
  keepDatabase?: boolean;
  log?: (line: string) => void;
}

export interface MemorySeries {
  instance: number;
  /** [seconds since start, RSS in MiB] */
  samples: [number, number][];
  warmMiB: number;
  peakMiB: number;
  endMiB: number;
  growthMiB: number;
  /** Least-squares slope after warm-up. */
  slopeMiBPerMinute: number;
}

export interface SoakReport {
  seconds: number;
  bots: number;
  games: number;
  movesSent: number;
  movesAcked: number;
  movesLogged: number;
  computerMoves: number;
  lost: number;
  duplicated: number;
  refusedMoves: Record<string, number>;
  inconsistentGames: Record<string, string[]>;
  httpRequests: number;
  http5xx: number;
  nginx5xx: number;
  nginxRequests: number;
  socketServerErrors: number;
  unexpectedCloses: number;
  ackLatencyMs: { p50: number; p95: number; p99: number; max: number };
  movesPerSecond: number;
  memory: MemorySeries[];
}

// ---- HTTP and sockets from a bot's own address -------------------------------------------------

interface Reply {
  status: number;
  location?: string;
  cookie?: string;
  text: string;
}

const percentile = (values: number[], p: number) => {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

function rssMiB(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

function slope(points: [number, number][]): number {
  if (points.length < 2) return 0;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den ? (num / den) * 60 : 0;
}

interface SentMove {
  game: string;
  ply: number;
  cell: number;
  sentAt: number;
  acked: number;
  error?: string;
}

class Bot {
  userId = 0;
  cookie = '';
  game: string | null = null;
  socket: WebSocket | null = null;
  private readonly agent: Agent;
  private pending: SentMove | null = null;
  private readonly sentIds = new Map<string, SentMove>();
  private rematchAsked = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private sequence = 0;
  stopped = false;

  constructor(
    readonly index: number,
    readonly username: string,
    private readonly soak: Soak,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 2, localAddress: this.address });
  }

  get address() {
    return `127.0.${1 + Math.floor((this.index + 1) / 250)}.${1 + ((this.index + 1) % 250)}`;
  }

  http(method: string, pathname: string, fields?: Record<string, string>): Promise<Reply> {
    const target = new URL(this.soak.url);
    const body = fields ? new URLSearchParams(fields).toString() : undefined;
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method,
          path: pathname,
          agent: this.agent,
          localAddress: this.address,
          headers: {
            Accept: 'text/html',
            ...(this.cookie ? { Cookie: this.cookie } : {}),
            ...(body !== undefined
              ? { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(Buffer.byteLength(body)), Origin: this.soak.url }
              : {}),
          },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            this.soak.httpRequests += 1;
            if (status >= 500) this.soak.http5xx += 1;
            const cookie = (res.headers['set-cookie'] ?? []).find((c) => c.startsWith('ttt.sid='))?.split(';')[0];
            if (cookie) this.cookie = cookie;
            resolve({ status, text, ...(res.headers.location ? { location: res.headers.location } : {}), ...(cookie ? { cookie } : {}) });
          });
        },
      );
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    });
  }

  async register() {
    const page = await this.http('GET', '/register');
    const res = await this.http('POST', '/register', { _csrf: csrfOf(page.text), username: this.username, password: PASSWORD, confirm: PASSWORD });
    if (res.status !== 303) throw new Error(`bot ${this.index} could not register: ${res.status} ${res.text.slice(0, 200)}`);
  }

  async createGame(mode: 'friend' | 'ai'): Promise<string> {
    const page = await this.http('GET', '/');
    const fields: Record<string, string> = { _csrf: csrfOf(page.text), mode, playAs: mode === 'ai' ? (Math.random() < 0.5 ? 'X' : 'O') : 'X' };
    if (mode === 'ai') fields.level = ['easy', 'medium', 'perfect'][this.index % 3]!;
    const res = await this.http('POST', '/games', fields);
    if (res.status !== 303 || !res.location) throw new Error(`bot ${this.index} could not create a game: ${res.status}`);
    return res.location.split('/').pop()!;
  }

  async join(game: string) {
    const page = await this.http('GET', `/games/${game}`);
    const res = await this.http('POST', `/games/${game}/join`, { _csrf: csrfOf(page.text) });
    if (res.status !== 303) throw new Error(`bot ${this.index} could not join: ${res.status}`);
  }

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.soak.url.replace(/^http/, 'ws')}/ws`, {
        headers: { Cookie: this.cookie, Origin: this.soak.url },
        localAddress: this.address,
      });
      ws.once('open', () => {
        this.socket = ws;
        if (this.game) this.send({ type: 'subscribe', game: this.game });
        resolve();
      });
      ws.once('unexpected-response', (_req, res) => reject(new Error(`bot ${this.index}: upgrade refused ${res.statusCode}`)));
      ws.once('error', reject);
      ws.on('message', (data) => this.onMessage(JSON.parse(String(data)) as ServerMessage));
      ws.on('close', (code) => {
        if (this.stopped) return;
        this.soak.unexpectedCloses += 1;
        this.soak.log(`bot ${this.index}: socket closed (${code}); reconnecting`);
        this.socket = null;
        // A move that was in flight is resolved by the resync: the state shows whether it was made.
        this.pending = null;
        setTimeout(() => void this.connect().catch((err: unknown) => this.soak.log(String(err))), 500);
      });
    });
  }

  send(message: object) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  follow(game: string) {
    if (this.game === game) return;
    this.game = game;
    this.send({ type: 'subscribe', game });
    // As the browser does after a rematch: load the new game's page.
    void this.http('GET', `/games/${game}`).catch(() => undefined);
  }

  private onMessage(message: ServerMessage) {
    if (message.type === 'state') return this.onState(message.game);
    if (message.type === 'ack') {
      const sent = this.sentIds.get(message.id);
      if (sent) {
        sent.acked += 1;
        this.soak.ackLatencies.push(performance.now() - sent.sentAt);
        if (this.pending === sent) this.pending = null;
      }
      if (message.rematchId && !this.stopped) this.follow(message.rematchId);
      return;
    }
    if (message.type === 'error') {
      if (message.code === 'server_error') this.soak.socketServerErrors += 1;
      const sent = message.id ? this.sentIds.get(message.id) : undefined;
      if (sent) {
        sent.error = message.code;
        this.soak.refusedMoves[message.code] = (this.soak.refusedMoves[message.code] ?? 0) + 1;
        if (this.pending === sent) this.pending = null;
      }
    }
  }

  private onState(game: GameState) {
    if (game.id !== this.game || this.stopped) return;
    if (game.status === 'active') {
      const mark = game.ply % 2 === 0 ? 'X' : 'O';
      if (game.players[mark]?.id !== this.userId) return;
      if (this.pending && this.pending.game === game.id && this.pending.ply === game.ply) return;
      if (this.timer) return;
      const [min, max] = this.soak.thinkMs;
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.stopped || this.game !== game.id) return;
        const free = [...game.board].flatMap((c, i) => (c === '.' ? [i] : []));
        const cell = free[Math.floor(Math.random() * free.length)]!;
        const id = `b${this.index}-${this.sequence++}`;
        const move: SentMove = { game: game.id, ply: game.ply, cell, sentAt: performance.now(), acked: 0 };
        this.sentIds.set(id, move);
        this.soak.sent.push(move);
        this.pending = move;
        this.send({ type: 'move', id, game: game.id, ply: game.ply, cell });
      }, min + Math.random() * (max - min));
      return;
    }
    if (game.status === 'finished' || game.status === 'aborted') {
      if (game.rematch.nextId) return this.follow(game.rematch.nextId);
      if (game.status === 'aborted' || this.rematchAsked.has(game.id)) return;
      this.rematchAsked.add(game.id);
      setTimeout(() => this.send({ type: 'rematch', id: `r${this.index}-${this.sequence++}`, game: game.id }), 100 + Math.random() * 400);
    }
  }

  /** Stops making moves; resolves once the move in flight (if any) has its answer. */
  async stop() {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const deadline = Date.now() + 10_000;
    while (this.pending && this.pending.acked === 0 && !this.pending.error && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  close() {
    this.socket?.close();
    this.agent.destroy();
  }
}

class Soak {
  url = '';
  httpRequests = 0;
  http5xx = 0;
  socketServerErrors = 0;
  unexpectedCloses = 0;
  readonly sent: SentMove[] = [];
  readonly ackLatencies: number[] = [];
  readonly refusedMoves: Record<string, number> = {};
  constructor(
    readonly thinkMs: [number, number],
    readonly log: (line: string) => void,
  ) {}
}

async function createDatabase(serverUrl: string) {
  const name = `ttt_soak_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const soak = new Soak(options.thinkMs ?? [300, 1200], log);
  const warmup = options.warmupSeconds ?? Math.min(60, options.seconds / 5);
  const database = await createDatabase(options.databaseUrl);
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  let stack: Stack | undefined;
  const bots: Bot[] = [];
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  const appErrors: string[] = [];
  try {
    log(`soak: ${options.bots} bots for ${options.seconds} s against 2 instances behind nginx, database ${database.name}`);
    stack = await startStack({
      databaseUrl: database.url,
      instances: 2,
      port,
      appCommand: [process.execPath, '--import', 'tsx', path.join(ROOT, 'src/server.ts')],
      env: {
        NODE_ENV: 'production',
        SESSION_SECRET: randomBytes(24).toString('hex'),
        PUBLIC_ORIGIN: origin,
        BCRYPT_COST: String(options.bcryptCost ?? 4),
        LOG_LEVEL: 'warn',
      },
      onOutput: (instance, chunk) => {
        for (const line of chunk.split('\n')) {
          if (line.includes('"level":40') || line.includes('"level":50') || line.includes('"level":60') || (line && !line.startsWith('{'))) {
            appErrors.push(`instance ${instance}: ${line.slice(0, 400)}`);
          }
        }
      },
    });
    soak.url = stack.url;

    // Accounts, then games: pairs create a friend game and join it; the others play the computer.
    const computerBots = Math.round(options.bots * (options.computerShare ?? 0.2));
    const pairBots = options.bots - computerBots - ((options.bots - computerBots) % 2);
    const prefix = randomBytes(2).toString('hex');
    for (let i = 0; i < pairBots + computerBots; i++) bots.push(new Bot(i, `soak${prefix}${i}`, soak));
    const setupStarted = performance.now();
    // A few at a time: each instance hashes one password at a time with a short queue, and answers
    // 503 (busy) beyond it, which is right for a storm but not what this measures.
    for (let i = 0; i < bots.length; i += 8) await Promise.all(bots.slice(i, i + 8).map((b) => b.register()));
    const { rows } = await pool.query<{ id: number; username: string }>('SELECT id, username FROM users');
    const ids = new Map(rows.map((r) => [r.username, r.id]));
    for (const bot of bots) bot.userId = ids.get(bot.username)!;
    for (let i = 0; i < bots.length; i += 20) await Promise.all(bots.slice(i, i + 20).map((b) => b.connect()));
    log(`soak: ${bots.length} bots registered and connected in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`);

    // Memory sampling, from now on.
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    const memory: [number, number][][] = stack.instances.map(() => []);
    const sample = () =>
      stack!.instances.forEach((instance, i) => {
        const rss = rssMiB(instance.process.pid);
        if (rss !== null) memory[i]!.push([elapsed(), rss]);
      });
    sample();
    const sampler = setInterval(sample, Math.max(1_000, Math.min(5_000, (options.seconds * 1000) / 60)));

    const firstGame = async (i: number) => {
      const bot = bots[i]!;
      if (i >= pairBots) return bot.follow(await bot.createGame('ai'));
      if (i % 2) return;
      const partner = bots[i + 1]!;
      const game = await bot.createGame('friend');
      await partner.join(game);
      bot.follow(game);
      partner.follow(game);
    };
    for (let i = 0; i < bots.length; i += 20) await Promise.all(bots.slice(i, i + 20).map((_, j) => firstGame(i + j)));
    log(`soak: first games started in ${elapsed().toFixed(1)} s`);

    const progress = setInterval(() => {
      const rss = memory.map((m) => `${(m.at(-1)?.[1] ?? 0).toFixed(0)} MiB`).join(' / ');
      log(`soak: ${elapsed().toFixed(0)} s, ${soak.sent.length} moves sent, ${soak.http5xx} 5xx, RSS ${rss}`);
    }, 30_000);
    await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
    clearInterval(progress);
    clearInterval(sampler);
    sample();
    const playedSeconds = elapsed();
    await Promise.all(bots.map((b) => b.stop()));
    for (const bot of bots) bot.close();

    // The log against what the bots sent and were told.
    const logged = await pool.query<{ game: string; ply: number; cell: number; player: number | null }>(
      'SELECT game_id AS game, ply, cell, player_id AS player FROM moves',
    );
    const key = (game: string, ply: number, cell: number) => `${game}:${ply}:${cell}`;
    const inTable = new Set(logged.rows.map((r) => key(r.game, r.ply, r.cell)));
    const ackedKeys = new Map<string, number>();
    for (const m of soak.sent) if (m.acked) ackedKeys.set(key(m.game, m.ply + 1, m.cell), (ackedKeys.get(key(m.game, m.ply + 1, m.cell)) ?? 0) + m.acked);
    const lost = [...ackedKeys.keys()].filter((k) => !inTable.has(k)).length;
    const humanRows = logged.rows.filter((r) => r.player !== null);
    const duplicated = humanRows.filter((r) => !ackedKeys.has(key(r.game, r.ply, r.cell))).length + [...ackedKeys.values()].filter((n) => n > 1).length;
    const inconsistentGames = await problemsInAllGames(pool);
    const games = Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM games')).rows[0]!.n);

    const access = stack.accessLog().split('\n').filter(Boolean);
    const nginx5xx = access.filter((line) => /" 5\d\d /.test(line)).length;
    for (const line of appErrors.slice(0, 5)) log(line);

    const warmSeries = memory.map((series, instance): MemorySeries => {
      const after = series.filter(([t]) => t >= warmup);
      const warm = after[0]?.[1] ?? series.at(-1)?.[1] ?? 0;
      const end = series.at(-1)?.[1] ?? 0;
      return {
        instance,
        samples: series.map(([t, v]) => [Math.round(t), Math.round(v * 10) / 10]),
        warmMiB: warm,
        peakMiB: Math.max(...after.map(([, v]) => v), end),
        endMiB: end,
        growthMiB: end - warm,
        slopeMiBPerMinute: slope(after),
      };
    });

    return {
      seconds: Math.round(playedSeconds),
      bots: bots.length,
      games,
      movesSent: soak.sent.length,
      movesAcked: [...ackedKeys.keys()].length,
      movesLogged: logged.rows.length,
      computerMoves: logged.rows.length - humanRows.length,
      lost,
      duplicated,
      refusedMoves: soak.refusedMoves,
      inconsistentGames,
      httpRequests: soak.httpRequests,
      http5xx: soak.http5xx,
      nginx5xx,
      nginxRequests: access.length,
      socketServerErrors: soak.socketServerErrors,
      unexpectedCloses: soak.unexpectedCloses,
      ackLatencyMs: {
        p50: percentile(soak.ackLatencies, 50),
        p95: percentile(soak.ackLatencies, 95),
        p99: percentile(soak.ackLatencies, 99),
        max: Math.max(0, ...soak.ackLatencies),
      },
      movesPerSecond: soak.sent.length / playedSeconds,
      memory: warmSeries,
    };
  } catch (err) {
    // What nginx and the instances said, before the stack's folder goes.
    if (stack) {
      try {
        log(`nginx error log:\n${readFileSync(path.join(stack.dir, 'error.log'), 'utf8').slice(-3000)}`);
      } catch {
        // no error log
      }
    }
    for (const line of appErrors.slice(0, 20)) log(line);
    throw err;
  } finally {
    for (const bot of bots) bot.close();
    await stack?.stop();
    await pool.end();
    if (!options.keepDatabase) await database.drop();
    else log(`soak: kept database ${database.url}`);
  }
}

export function formatReport(r: SoakReport): string {
  const f = (n: number) => n.toFixed(1);
  const lines = [
    `Soak: ${r.bots} bots, ${r.seconds} s, two instances behind nginx`,
    `  games ${r.games}, moves sent ${r.movesSent} (${f(r.movesPerSecond)}/s), acknowledged ${r.movesAcked}, in the moves table ${r.movesLogged} (${r.computerMoves} by the computer)`,
    `  lost ${r.lost}, duplicated ${r.duplicated}, inconsistent games ${Object.keys(r.inconsistentGames).length}, refused moves ${JSON.stringify(r.refusedMoves)}`,
    `  HTTP requests by bots ${r.httpRequests}, 5xx ${r.http5xx}; nginx requests ${r.nginxRequests}, 5xx ${r.nginx5xx}; socket server errors ${r.socketServerErrors}, unexpected socket closes ${r.unexpectedCloses}`,
    `  move → ack latency: p50 ${f(r.ackLatencyMs.p50)} ms, p95 ${f(r.ackLatencyMs.p95)} ms, p99 ${f(r.ackLatencyMs.p99)} ms, max ${f(r.ackLatencyMs.max)} ms`,
    ...r.memory.map(
      (m) =>
        `  instance ${m.instance} RSS: after warm-up ${f(m.warmMiB)} MiB, peak ${f(m.peakMiB)} MiB, end ${f(m.endMiB)} MiB, growth ${f(m.growthMiB)} MiB, slope ${m.slopeMiBPerMinute.toFixed(2)} MiB/min`,
    ),
  ];
  return lines.join('\n');
}

/** Whether the run met the promises: nothing lost or doubled, consistent, no 5xx, memory flat. */
export function verdict(r: SoakReport, { maxGrowthMiB = 40 } = {}): string[] {
  const failures: string[] = [];
  if (r.lost) failures.push(`${r.lost} acknowledged moves lost`);
  if (r.duplicated) failures.push(`${r.duplicated} moves duplicated`);
  if (Object.keys(r.inconsistentGames).length) failures.push(`inconsistent games: ${JSON.stringify(r.inconsistentGames).slice(0, 500)}`);
  if (r.http5xx || r.nginx5xx) failures.push(`5xx answers: ${r.http5xx} seen by bots, ${r.nginx5xx} in nginx's log`);
  if (r.socketServerErrors) failures.push(`${r.socketServerErrors} server errors on sockets`);
  if (r.movesAcked === 0) failures.push('no move was acknowledged');
  for (const m of r.memory) if (m.growthMiB > maxGrowthMiB) failures.push(`instance ${m.instance} grew ${m.growthMiB.toFixed(1)} MiB after warm-up`);
  return failures;
}

async function main() {
  const report = await runSoak({
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    seconds: Number(process.env.SOAK_SECONDS ?? 600),
    bots: Number(process.env.SOAK_BOTS ?? 200),
    ...(process.env.SOAK_BCRYPT_COST ? { bcryptCost: Number(process.env.SOAK_BCRYPT_COST) } : {}),
    keepDatabase: process.env.SOAK_KEEP_DB === '1',
  });
  console.log(`\n${formatReport(report)}`);
  const failures = verdict(report);
  if (failures.length) {
    console.log(`\nFAILED:\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }
  console.log('\nOK: nothing lost or duplicated, every game consistent, no 5xx, memory flat after warm-up.');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
