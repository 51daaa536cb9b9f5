/**
 * Load generator for live games: many games in parallel, two WebSockets per game (X and O), each
 * playing the same nine-move draw and then subscribing to its next game. Runs in its own process
 * (pinned to the load CPU) and prints one result line per phase.
 *
 *   node --import tsx bench/clients/games.ts <input.json>
 *
 * A move counts as committed when the mover's `ack` arrives (the app acknowledges after COMMIT).
 * Its latency is from `send` to the opponent's socket receiving the state with the new ply.
 *
 * Closed loop (max rate): each game moves as soon as the opponent has seen the last move, but no
 * sooner than `paceMs` after its previous move, so that no socket exceeds the app's per-connection
 * limit (10 messages/s). Open loop (latency): moves are sent on a fixed schedule adding up to
 * `rate` moves/s over all games (late when the previous move has not arrived yet).
 */
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { emit, percentile } from '../lib/common.js';

export interface GamesInput {
  url: string;
  origin: string;
  slots: { x: string; o: string; games: string[] }[];
  mode: 'closed' | 'open';
  paceMs: number;
  /** Open loop: moves per second over all games. */
  rate: number;
  /** Games start one after another over this many seconds (a real crowd does not arrive at once). */
  rampS: number;
  phases: { name: string; seconds: number }[];
}

/** A draw that fills the board: X 0, O 1, X 2, O 4, X 3, O 5, X 7, O 6, X 8. */
const SEQ = [0, 1, 2, 4, 3, 5, 7, 6, 8];
const STALL_MS = 5_000;

const input = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as GamesInput;
const openInterval = input.mode === 'open' ? (input.slots.length / input.rate) * 1000 : 0;

interface Counters {
  moves: number;
  latencies: number[];
  errors: Record<string, number>;
  stalls: number;
  exhausted: number;
}
const fresh = (): Counters => ({ moves: 0, latencies: [], errors: {}, stalls: 0, exhausted: 0 });
let counters = fresh();
let moveCounter = 0;
let running = true;

type Incoming =
  | { type: 'state'; game: { id: string; ply: number } }
  | { type: 'ack'; id: string }
  | { type: 'error'; id?: string; code: string }
  | { type: 'lobby' };

class Game {
  sockets: WebSocket[] = [];
  index = -1;
  game = '';
  ready = [false, false];
  ply = 0;
  pending: { ply: number; by: number; id: string; sentAt: number } | null = null;
  /** Moves sent whose ack has not come yet (the opponent may move before the mover's ack arrives). */
  outstanding = new Set<string>();
  lastSend = 0;
  nextAt = 0;
  /** Since when the game has waited for an answer (a subscribe's state, a move's state or ack). */
  waitingSince: number | null = null;
  timer: NodeJS.Timeout | undefined;
  done = false;

  constructor(readonly slot: GamesInput['slots'][number]) {}

  async connect() {
    this.sockets = await Promise.all(
      [this.slot.x, this.slot.o].map(
        (cookie, i) =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(`${input.url}/ws`, { headers: { Cookie: cookie, Origin: input.origin }, perMessageDeflate: false });
            ws.on('message', (data) => this.onMessage(i, JSON.parse(String(data)) as Incoming));
            ws.once('open', () => resolve(ws));
            ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
            ws.once('error', reject);
          }),
      ),
    );
    for (const ws of this.sockets) ws.on('error', () => undefined);
  }

  nextGame() {
    clearTimeout(this.timer);
    this.index += 1;
    if (this.index >= this.slot.games.length) {
      if (!this.done) counters.exhausted += 1;
      this.done = true;
      return;
    }
    this.game = this.slot.games[this.index]!;
    this.ready = [false, false];
    this.ply = 0;
    this.pending = null;
    this.outstanding.clear();
    this.waitingSince = performance.now();
    for (const ws of this.sockets) ws.send(JSON.stringify({ type: 'subscribe', game: this.game }));
  }

  onMessage(socket: number, message: Incoming) {
    if (!running) return;
    const now = performance.now();
    if (message.type === 'state') {
      if (message.game.id !== this.game) return;
      if (!this.ready[socket]) {
        this.ready[socket] = true;
        if (this.ready[0] && this.ready[1]) this.waitingSince = null;
        if (this.ready[0] && this.ready[1] && this.ply === 0 && !this.pending) this.schedule();
        return;
      }
      const p = this.pending;
      if (p && socket !== p.by && message.game.ply === p.ply + 1) {
        counters.latencies.push(now - p.sentAt);
        this.ply = p.ply + 1;
        this.pending = null;
        this.waitingSince = this.outstanding.size ? this.waitingSince : null;
        if (this.ply === SEQ.length) this.maybeNext();
        else this.schedule();
      }
    } else if (message.type === 'ack') {
      // The ack can come before or after the opponent's state.
      if (this.outstanding.delete(message.id)) {
        counters.moves += 1;
        if (!this.pending && this.outstanding.size === 0) this.waitingSince = null;
        this.maybeNext();
      }
    } else if (message.type === 'error') {
      counters.errors[message.code] = (counters.errors[message.code] ?? 0) + 1;
      // A move refused by the per-connection limit is dropped by the server: send it again.
      const p = this.pending;
      if (message.code === 'rate_limited' && p && p.by === socket && this.outstanding.has(p.id)) {
        setTimeout(() => this.resend(p), 200);
      }
    }
  }

  maybeNext() {
    if (this.ply === SEQ.length && this.outstanding.size === 0) this.nextGame();
  }

  schedule() {
    const now = performance.now();
    const at = input.mode === 'closed' ? Math.max(now, this.lastSend + input.paceMs) : Math.max(now, this.nextAt);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.send(), at - now);
  }

  send() {
    if (!running) return;
    const now = performance.now();
    const by = this.ply % 2;
    moveCounter += 1;
    this.pending = { ply: this.ply, by, id: `m${moveCounter}`, sentAt: now };
    this.outstanding.add(this.pending.id);
    this.waitingSince ??= now;
    this.lastSend = now;
    if (input.mode === 'open') this.nextAt = Math.max(this.nextAt, now - openInterval) + openInterval;
    this.sockets[by]!.send(JSON.stringify({ type: 'move', id: this.pending.id, game: this.game, ply: this.ply, cell: SEQ[this.ply] }));
  }

  resend(p: NonNullable<Game['pending']>) {
    if (!running || this.pending !== p || !this.outstanding.has(p.id)) return;
    p.sentAt = performance.now();
    this.sockets[p.by]!.send(JSON.stringify({ type: 'move', id: p.id, game: this.game, ply: p.ply, cell: SEQ[p.ply] }));
  }

  /** A game that has waited too long for an answer is given up, and the slot goes on with its next game. */
  watchdog(now: number) {
    if (this.done || this.waitingSince === null || now - this.waitingSince < STALL_MS) return;
    counters.stalls += 1;
    this.nextGame();
  }
}

async function main() {
  const games = input.slots.map((slot) => new Game(slot));
  // Connect in batches: the connection storm is not what is measured here.
  for (let i = 0; i < games.length; i += 25) await Promise.all(games.slice(i, i + 25).map((g) => g.connect()));
  const start = performance.now();
  for (const [i, g] of games.entries()) {
    // Open loop: spread the games' schedules over one interval.
    const delay = (input.rampS * 1000 * i) / games.length;
    g.nextAt = start + delay + (openInterval * i) / games.length;
    setTimeout(() => g.nextGame(), delay);
  }
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const g of games) g.watchdog(now);
  }, 1_000);

  for (const phase of input.phases) {
    counters = fresh();
    const began = performance.now();
    await new Promise((resolve) => setTimeout(resolve, phase.seconds * 1000));
    const seconds = (performance.now() - began) / 1000;
    const c = counters;
    emit({
      phase: phase.name,
      seconds,
      moves: c.moves,
      movesPerS: c.moves / seconds,
      p50: percentile(c.latencies, 50),
      p99: percentile(c.latencies, 99),
      samples: c.latencies.length,
      errors: c.errors,
      stalls: c.stalls,
      exhausted: c.exhausted,
    });
  }
  running = false;
  clearInterval(watchdog);
  for (const g of games) {
    clearTimeout(g.timer);
    for (const ws of g.sockets) ws.terminate();
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
