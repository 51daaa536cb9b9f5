/**
 * Starts the product: config → database → migrations → the application (see application.ts) →
 * listening → graceful shutdown on a signal.
 */
import { createApplication, type Application } from './application.js';
import { loadConfigOrExit } from './config.js';
import { EmbeddedDatabaseError, openDatabase } from './db/database.js';
import { migrate } from './db/migrate.js';
import { closeLogs, createLogger } from './logger.js';

/** How long in-flight requests get to finish after SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

/** Signals that stop the app: Ctrl-C, a service manager, the terminal closing. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

async function main() {
  const config = loadConfigOrExit();
  const logger = createLogger(config.logLevel);
  // A stop asked for while starting waits until the embedded server (if any) is up, then stops
  // it: killing the process mid-start would leave the server, or a half-made cluster, behind.
  let stopAsked: string | undefined;
  let onStop = (signal: string) => {
    stopAsked ??= signal;
  };
  for (const signal of STOP_SIGNALS) process.on(signal, () => onStop(signal));

  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
  let application: Application;
  try {
    if (stopAsked) throw new StartAborted();
    await migrate(db.url, logger);
    application = await createApplication(config, { db, logger });
    if (stopAsked) {
      await application.close();
      throw new StartAborted();
    }
  } catch (err) {
    // Stop the embedded server this process started, rather than leave it running.
    await db.close().catch(() => undefined);
    if (!(err instanceof StartAborted)) throw err;
    logger.info({ signal: stopAsked }, 'stopped while starting');
    await closeLogs(logger);
    process.exit(0);
  }

  const { server } = application;
  server.listen(config.port, config.host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ port, database: db.embedded ? 'embedded' : 'server' }, `listening on http://localhost:${port}`);
  });
  server.once('error', (err) => {
    logger.error({ err }, 'could not listen');
    void shutdown('listen error', 1);
  });

  let stopping = false;
  async function shutdown(signal: string, exitCode = 0) {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.warn('requests still running after the grace period; exiting');
      // The embedded server's fast shutdown ends the sessions still busy: it is not left behind.
      void db.terminate().finally(() => process.exit(1));
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    // Stop accepting, let requests in flight finish, and tell live clients to reconnect (to
    // another instance, or to this one once it is back).
    await application.close();
    await db.close();
    logger.info('stopped');
    await closeLogs(logger);
    process.exit(exitCode);
  }
  onStop = (signal) => void shutdown(signal);
}

class StartAborted extends Error {}

main().catch((err: unknown) => {
  console.error('Could not start:', err instanceof EmbeddedDatabaseError ? err.message : err);
  process.exit(1);
});
