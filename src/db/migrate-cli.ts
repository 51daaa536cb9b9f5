/** `npm run migrate`: applies pending migrations to the configured database, then exits. */
import { loadConfigOrExit } from '../config.js';
import { createLogger } from '../logger.js';
import { openDatabase } from './database.js';
import { migrate } from './migrate.js';

const config = loadConfigOrExit();
const logger = createLogger(config.logLevel);
const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, whenInUse: 'share', logger });
try {
  const applied = await migrate(db.url, logger);
  logger.info(applied.length ? `applied ${applied.join(', ')}` : 'database is up to date');
} catch (err) {
  logger.error({ err }, 'migration failed');
  process.exitCode = 1;
} finally {
  await db.close();
}
