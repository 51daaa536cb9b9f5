/**
 * Live events between app instances travel through PostgreSQL LISTEN/NOTIFY (on the embedded
 * server as on any other), so a move committed on instance A reaches sockets on instance B.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { GameState } from '../game/model.js';
import { batched } from './batch.js';

const CHANNEL = 'ttt_events';

const busEventSchema = z.discriminatedUnion('kind', [
  z.object({
    /** A game changed (version grew) or one of its players came or went (same version). */
    kind: z.literal('game'),
    game: z.string(),
    version: z.number().int(),
    /** Its players, whose lobby lists show it. */
    players: z.array(z.number().int()),
    /** Whether everyone's lobby lists change (created, joined, ended), not only its players'. */
    lobby: z.boolean(),
    /** The game as it now is, when the publisher has it (after a move): watchers need not read it. */
    state: z
      .custom<GameState>((v) => typeof v === 'object' && v !== null && typeof (v as GameState).id === 'string' && Number.isInteger((v as GameState).version))
      .optional(),
  }),
  /**
   * Sessions of an account ended: with `validAfter` (ms), those that logged in before it (password
   * change or reset, "log out other sessions"); without, all of them (deactivated, deleted). Their
   * live sockets close on every instance.
   */
  z.object({ kind: z.literal('user'), user: z.number().int(), validAfter: z.number().optional() }),
  /** One session ended (logout): its sockets close. `session` is sessionKey(sid), never the sid. */
  z.object({ kind: z.literal('session'), session: z.string() }),
  /** The bus lost events (listener reconnected): re-read everything that is being watched. */
  z.object({ kind: z.literal('resync') }),
  /** The database went away (listener lost): live clients should reconnect later. */
  z.object({ kind: z.literal('unavailable') }),
]);

export type BusEvent = z.infer<typeof busEventSchema>;
export type GameEvent = Extract<BusEvent, { kind: 'game' }>;
/** What code may publish; `resync` and `unavailable` only come from the bus itself. */
export type PublishedEvent = Exclude<BusEvent, { kind: 'resync' | 'unavailable' }>;

export interface EventBus {
  publish(event: PublishedEvent): Promise<void>;
  subscribe(handler: (event: BusEvent) => void): void;
  close(): Promise<void>;
}

/**
 * The one dedicated connection per instance that LISTENs. If it drops, subscribers hear that the
 * database is unavailable; it then reconnects with backoff and tells them to resync.
 */
class Listener {
  private client: pg.Client | undefined;
  private closed = false;
  private retryMs = 250;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly logger: Logger,
    private readonly deliver: (event: BusEvent) => void,
  ) {}

  async listen(isReconnect: boolean) {
    const next = new pg.Client({ connectionString: this.databaseUrl });
    next.on('notification', (message) => {
      try {
        this.deliver(busEventSchema.parse(JSON.parse(message.payload ?? '')));
      } catch (err) {
        this.logger.warn({ err }, 'ignored a malformed live event');
      }
    });
    next.on('error', (err) => {
      this.logger.warn({ err }, 'live event connection lost');
      this.deliver({ kind: 'unavailable' });
      this.scheduleReconnect();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      await next.end().catch(() => undefined);
      throw err;
    }
    this.client = next;
    this.retryMs = 250;
    if (isReconnect) this.deliver({ kind: 'resync' });
  }

  async close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.client?.end().catch(() => undefined);
  }

  private scheduleReconnect() {
    const lost = this.client;
    this.client = undefined;
    void lost?.end().catch(() => undefined);
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.listen(true).catch((err: unknown) => {
        this.logger.warn({ err, retryMs: this.retryMs }, 'live events: reconnect failed');
        this.retryMs = Math.min(this.retryMs * 2, 5_000);
        this.scheduleReconnect();
      });
    }, this.retryMs);
    this.retryTimer.unref();
  }
}

/** Each instance LISTENs on its own connection (see Listener); publishing uses the pool. */
export async function postgresBus(pool: pg.Pool, databaseUrl: string, logger: Logger): Promise<EventBus> {
  const handlers: ((event: BusEvent) => void)[] = [];
  const listener = new Listener(databaseUrl, logger, (event) => {
    for (const handler of handlers) handler(event);
  });

  // Listening before anything is published, so this instance misses none of its own events.
  await listener.listen(false);

  // Every transaction that notifies takes one cluster-wide lock for its commit, so notifying
  // transactions commit one at a time: one per event would cap the move rate at one WAL flush per
  // move. Events published while a NOTIFY is in flight therefore go together in the next one.
  const notify = batched<string>(async (payloads) => {
    await pool.query({ name: 'notify-events', text: 'SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', values: [CHANNEL, payloads] });
  });

  return {
    publish: (event) => notify(JSON.stringify(event)),
    subscribe(handler) {
      handlers.push(handler);
    },
    close: () => listener.close(),
  };
}
