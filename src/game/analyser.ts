/**
 * Ultimate games get the engine's analysis once they finish, off the request path: asked for when
 * a game ends on this instance, and again when someone opens a finished game that has none (the
 * instance that ended it may have stopped first). One game at a time per instance, each game once;
 * watchers re-read the game when its analysis is stored.
 */
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import type { EventBus } from '../db/events.js';
import { publishChanges } from './changes.js';
import type { Computer } from './engines/index.js';
import { ANALYSIS_ITERATIONS } from './engines/analyse.js';
import * as store from './store.js';

/** Games waiting for analysis on one instance at most; beyond, requests wait for a later visit. */
const MAX_QUEUED = 200;

export interface Analyser {
  /** Queues the game's analysis unless it is queued already (or the queue is full). */
  request(gameId: string): void;
  /** Stops after the game in progress; resolves when nothing runs. */
  close(): Promise<void>;
}

export function createAnalyser(deps: { db: Pool; bus: EventBus; computer: Computer; logger: Logger }): Analyser {
  const queued = new Set<string>();
  let chain: Promise<void> = Promise.resolve();
  let closed = false;
  const stopping = new AbortController();

  async function analyse(gameId: string): Promise<void> {
    const game = await store.analysisInput(deps.db, gameId);
    if (closed || !game || game.variant !== 'ultimate' || game.status !== 'finished' || game.analysed || game.moves.length < 2) return;
    const analysis = await deps.computer.analyse(game.moves, stopping.signal);
    if (analysis && (await store.saveAnalysis(deps.db, gameId, analysis, ANALYSIS_ITERATIONS))) {
      await publishChanges(deps.bus, [{ kind: 'analysed', game: gameId, version: 0, players: [] }]);
    }
  }

  return {
    request(gameId) {
      if (closed || queued.has(gameId) || queued.size >= MAX_QUEUED) return;
      queued.add(gameId);
      chain = chain
        .then(() => analyse(gameId))
        .catch((err: unknown) => deps.logger.warn({ err, game: gameId }, 'analysing a game failed'))
        .finally(() => queued.delete(gameId));
    },
    close() {
      closed = true;
      stopping.abort();
      return chain;
    },
  };
}
