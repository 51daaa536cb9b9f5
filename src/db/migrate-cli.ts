/** `npm run migrate`: applies pending migrations to the configured database, then exits. */
import path from 'node:path';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { createLogger } from '../logger.js';
import { openDatabase } from './database.js';
import { migrate } from './migrate.js';

function readConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    // The same plain message as `npm start`, not a stack trace.
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}

const config = readConfig();
const logger = createLogger(config.logLevel);
const db = await openDatabase({ databaseUrl: config.databaseUrl, embeddedDir: path.join(config.dataDir, 'pglite'), logger });
try {
  const applied = await migrate(db.url, logger);
  logger.info(applied.length ? `applied ${applied.join(', ')}` : 'database is up to date');
} catch (err) {
  logger.error({ err }, 'migration failed');
  process.exitCode = 1;
} finally {
  await db.close();
}
