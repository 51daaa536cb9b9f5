/**
 * The composition root: everything one instance runs on an open database, and the order in which
 * it stops. server.ts calls it after parsing the configuration; every test and bench builds the
 * site through it too, so what they run is what production runs (sweepers included).
 */
import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { buildApp, type AppDeps } from './app.js';
import { createComputer } from './game/engines/index.js';
import type { GameDeps } from './game/service.js';
import { createEnginePool } from './game/engines/pool.js';
import type { Config } from './config.js';
import { postgresBus, type EventBus } from './db/events.js';
import { expireWaitingGames } from './game/service.js';
import { attachLive } from './live/index.js';

/** How often each instance aborts friend and open games that nobody joined within the hour. */
const EXPIRY_SWEEP_MS = 60_000;

export interface ApplicationDeps extends Pick<AppDeps, 'authLimits' | 'mailer' | 'clock' | 'random' | 'pageReloadSeconds'> {
  /** The open database: its pool, and its URL for the bus's own listening connection. */
  db: { pool: Pool; url: string };
  logger: Logger;
  /** A bus the caller owns (tests share one); by default the application opens and closes its own. */
  bus?: EventBus;
}

export interface Application {
  /** The HTTP server with the WebSocket layer attached, not yet listening. */
  server: Server;
  /** The Express app, for supertest. */
  app: Express;
  /** What the game service runs with (tests call the service directly with it). */
  gameDeps: GameDeps;
  /**
   * Stops, in order: the sweepers, new connections, live sockets (told to reconnect elsewhere),
   * requests in flight, sessions, mail, the bus. The database is the caller's. `force` drops
   * connections that are still busy (tests).
   */
  close(options?: { force?: boolean }): Promise<void>;
}

export async function createApplication(config: Config, deps: ApplicationDeps): Promise<Application> {
  const { logger } = deps;
  const bus = deps.bus ?? (await postgresBus(deps.db.pool, deps.db.url, logger));
  const engines = createEnginePool({ threads: config.engineThreads, budgetMs: config.engineBudgetMs });
  const computer = createComputer(engines, deps.random ?? Math.random);
  const built = buildApp({ ...deps, config, pool: deps.db.pool, bus, computer });
  if (!built.app.locals.canRecover) {
    logger.warn('"Forgot your password?" is off: in production it needs SMTP_URL (where mail goes) and PUBLIC_ORIGIN (where its links point)');
  } else if (!config.smtpUrl) {
    logger.info('no SMTP_URL: mails (password reset, address confirmation) are written to this log instead of sent');
  }
  const server = createServer(built.app);
  // nginx.conf closes its idle upstream connections after 4 s, before this, so it never reuses one
  // the app is closing (Node's default, stated here because the two must stay in that order).
  server.keepAliveTimeout = 5_000;
  const live = attachLive(server, { ...built.gameDeps, logger, session: built.sessionMiddleware, publicOrigin: config.publicOrigin, clientAddress: built.clientAddress });
  const sweeper = setInterval(() => {
    expireWaitingGames(built.gameDeps).catch((err: unknown) => logger.warn({ err }, 'expiring waiting games failed'));
  }, EXPIRY_SWEEP_MS);
  sweeper.unref();

  return {
    server,
    app: built.app,
    gameDeps: built.gameDeps,
    async close({ force = false } = {}) {
      clearInterval(sweeper);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await live.close();
      if (force) server.closeAllConnections();
      await closed;
      built.sessionStore.close();
      await built.mailer.idle();
      built.mailer.close();
      await built.gameDeps.analyser.close();
      await engines.close();
      if (!deps.bus) await bus.close();
    },
  };
}
