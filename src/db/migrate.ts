/**
 * Versioned SQL migrations from migrations/, applied with node-pg-migrate. Its advisory lock in
 * "wait" mode makes instances that start together take turns: the first applies, the rest find
 * nothing left to do. PGlite multiplexes every connection onto one session, where an advisory
 * lock is re-entrant, so callers within this process are also queued one after the other.
 */
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import type { Logger } from 'pino';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

let queue: Promise<unknown> = Promise.resolve();

export function migrate(databaseUrl: string, logger: Logger): Promise<string[]> {
  const run = queue.then(() => applyPending(databaseUrl, logger));
  queue = run.catch(() => undefined);
  return run;
}

async function applyPending(databaseUrl: string, logger: Logger): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    advisoryLockMode: 'wait',
    checkOrder: true,
    log: (message: string) => logger.debug(message),
  });
  const names = applied.map((m) => m.name);
  if (names.length > 0) logger.info({ migrations: names }, 'database migrated');
  return names;
}
