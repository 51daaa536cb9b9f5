/**
 * Versioned SQL migrations from migrations/, applied with node-pg-migrate. Its advisory lock in
 * "wait" mode makes instances that start together take turns: the first applies, the rest find
 * nothing left to do.
 */
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from 'pino';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

/**
 * Applies pending migrations, or only the first `count` of all migrations when given (the PGlite
 * import brings a new database to the old one's version before copying its rows).
 * @returns the names applied now, in order.
 */
export async function migrate(databaseUrl: string, logger: Logger, count?: number): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    advisoryLockMode: 'wait',
    checkOrder: true,
    ...(count === undefined ? {} : { count }),
    log: (message: string) => logger.debug(message),
  });
  const names = applied.map((m) => m.name);
  if (names.length > 0) logger.info({ migrations: names }, 'database migrated');
  return names;
}
