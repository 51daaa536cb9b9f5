/**
 * Players' live sockets as presence (see game/presence.ts for what presence means). Each instance
 * counts the sockets it holds per game and player, saves the counts (batched), refreshes its rows
 * while they live, and announces the first socket and the last, which change what others see. It
 * also ends the presence of instances that stopped refreshing theirs (killed), and announces it.
 */
import type { Logger } from 'pino';
import { batched } from '../db/batch.js';
import { announcePresence, type GameDeps } from '../game/service.js';
import * as store from '../game/store.js';

/** How often an instance refreshes its rows (store.PRESENCE_STALE_MS is three times this). */
const REFRESH_MS = 10_000;

export class SocketPresence {
  private readonly sockets = new Map<string, number>();
  private readonly save: (row: store.PresenceRow) => Promise<void>;
  private readonly refresher: NodeJS.Timeout;

  constructor(
    private readonly deps: Pick<GameDeps, 'db' | 'bus' | 'clock'> & { logger: Logger },
    private readonly instanceId: string,
  ) {
    // Presence changes of all sockets go to the database together (see batched).
    this.save = batched<store.PresenceRow>((rows) => store.savePresence(deps.db, rows));
    this.refresher = setInterval(() => {
      this.refresh().catch((err: unknown) => deps.logger.warn({ err }, 'presence refresh failed'));
    }, REFRESH_MS);
    this.refresher.unref();
  }

  /** A socket of the player opened on the game. */
  join(gameId: string, userId: number): Promise<void> {
    return this.count(gameId, userId, 1);
  }

  /** A socket of the player on the game closed or moved on. */
  leave(gameId: string, userId: number): Promise<void> {
    return this.count(gameId, userId, -1);
  }

  stop() {
    clearInterval(this.refresher);
  }

  /** Saves what this instance holds (repairing any lost write), then ends dead instances' presence. */
  private async refresh() {
    const now = this.deps.clock();
    const rows = [...this.sockets].map(([key, connections]) => {
      const [gameId, userId] = key.split(':');
      return { gameId: gameId!, userId: Number(userId), instanceId: this.instanceId, connections, now };
    });
    await store.refreshPresence(this.deps.db, this.instanceId, rows, now);
    for (const gameId of await store.endStalePresence(this.deps.db, now)) await announcePresence(this.deps, gameId);
  }

  private async count(gameId: string, userId: number, delta: 1 | -1) {
    const key = `${gameId}:${userId}`;
    const count = (this.sockets.get(key) ?? 0) + delta;
    if (count > 0) this.sockets.set(key, count);
    else this.sockets.delete(key);
    await this.save({ gameId, userId, instanceId: this.instanceId, connections: count, now: this.deps.clock() });
    if ((delta === 1 && count === 1) || count === 0) await announcePresence(this.deps, gameId);
  }
}
