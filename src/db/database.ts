/**
 * One pg.Pool for the whole app. With DATABASE_URL it connects to that server; without it the app
 * runs the embedded PostgreSQL server on DATA_DIR (./embedded.ts) and connects to it the same way:
 * "embedded" only decides who starts the server.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import { DataFolderInUseError, runningEmbeddedUrl, startEmbeddedServer, type EmbeddedServer } from './embedded.js';
import { importPgliteOnce } from './pglite-import.js';

export { EmbeddedDatabaseError } from './embedded.js';

export interface Database {
  pool: pg.Pool;
  /** A connection string for tools that open their own connection (migrations, the event bus). */
  url: string;
  /** Whether this process started the embedded server (and stops it in `close`). */
  embedded: boolean;
  /** Closes the pool (waiting for queries in flight), then stops the embedded server if this process started it. */
  close(): Promise<void>;
  /** Stops the embedded server at once (its fast shutdown ends busy sessions), without waiting for the pool. */
  terminate(): Promise<void>;
}

export interface DatabaseOptions {
  /** A real PostgreSQL server; when absent, the embedded one in `dataDir` is used. */
  databaseUrl?: string | undefined;
  /** DATA_DIR: where the embedded server keeps its cluster; required without databaseUrl. */
  dataDir?: string;
  poolSize?: number;
  /**
   * 'share': a tool (migrate, create-admin) connects to the embedded server that the app already
   * runs on `dataDir`. Default 'own': a second process on the folder is refused (DataFolderInUseError).
   */
  whenInUse?: 'own' | 'share';
  logger: Logger;
}

function createPool(url: string, max: number, logger: Logger): pg.Pool {
  // A database that does not answer a connection within 2 s is treated as down: pages get a 503
  // at once rather than hanging until the browser gives up.
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 2_000 });
  // An idle client can lose its server (restart, network); log it instead of crashing the process.
  pool.on('error', (err) => logger.warn({ err }, 'idle database connection failed'));
  return pool;
}

function connected(url: string, options: DatabaseOptions, stopServer?: () => Promise<void>): Database {
  const pool = createPool(url, options.poolSize ?? 10, options.logger);
  return {
    pool,
    url,
    embedded: stopServer !== undefined,
    async close() {
      await pool.end();
      await stopServer?.();
    },
    async terminate() {
      await stopServer?.();
    },
  };
}

/**
 * Starts the embedded server on `dataDir` and imports an earlier version's PGlite data once (see
 * pglite-import.ts): what `npm start` and `npm run stack` run without DATABASE_URL.
 */
export async function startEmbeddedDatabase(dataDir: string, logger: Logger): Promise<EmbeddedServer> {
  const server = await startEmbeddedServer(dataDir, logger);
  try {
    await importPgliteOnce(dataDir, server.url, logger);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const { databaseUrl, dataDir } = options;
  if (databaseUrl) return connected(databaseUrl, options);
  if (!dataDir) throw new Error('openDatabase needs a databaseUrl or a dataDir');
  try {
    const server = await startEmbeddedDatabase(dataDir, options.logger);
    return connected(server.url, options, () => server.stop());
  } catch (err) {
    if (!(err instanceof DataFolderInUseError) || options.whenInUse !== 'share') throw err;
    const url = await runningEmbeddedUrl(dataDir);
    if (!url) throw err;
    options.logger.info('using the embedded PostgreSQL that the running app started');
    return connected(url, options);
  }
}

/** Socket errors and SQLSTATEs that mean "the database cannot be reached", not "bad query". */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);

export function isDatabaseUnavailable(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  return typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(message);
}
