/**
 * One pg.Pool for the whole app. Without DATABASE_URL the app starts an embedded PGlite and serves
 * it on a loopback port through pglite-socket, so the very same `pg` code runs in both modes.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import type { Logger } from 'pino';
import lockfile from 'proper-lockfile';

/**
 * PGlite runs one query at a time; the socket server multiplexes these connections onto it and
 * holds the others while one is inside a transaction, which is exactly what correctness needs.
 */
const EMBEDDED_CONNECTIONS = 8;

export interface Database {
  pool: pg.Pool;
  /** A connection string for tools that open their own connection (the migration runner). */
  url: string;
  embedded: boolean;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A real PostgreSQL server; when absent, the embedded one is used. */
  databaseUrl?: string | undefined;
  /** Folder for the embedded database files, or 'memory://' for a throwaway one (tests). */
  embeddedDir?: string;
  poolSize?: number;
  logger: Logger;
}

/**
 * Hot queries are named, so a server parses and plans them once per connection (planning the game
 * state query cost four times its execution). PGlite's socket server runs all its connections in one
 * session, where two connections preparing the same name would collide: there they go unnamed.
 */
class UnnamedStatementsClient extends pg.Client {
  override query(...args: unknown[]): never {
    const [config] = args;
    if (config && typeof config === 'object' && 'name' in config) args[0] = { ...config, name: undefined };
    return (pg.Client.prototype.query as (...a: unknown[]) => never).apply(this, args);
  }
}

function createPool(url: string, max: number, logger: Logger, embedded = false): pg.Pool {
  // A database that does not answer a connection within 2 s is treated as down: pages get a 503
  // at once rather than hanging until the browser gives up.
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 2_000, ...(embedded ? { Client: UnnamedStatementsClient } : {}) });
  // An idle client can lose its server (restart, network); log it instead of crashing the process.
  pool.on('error', (err) => logger.warn({ err }, 'idle database connection failed'));
  return pool;
}

/** Said as it is to whoever started the process: there is nothing to debug. */
export class DataFolderInUseError extends Error {}

/**
 * PGlite's files belong to one process: a second one opening them (`npm start` in two terminals)
 * would corrupt them. The lock is `<dir>.lock`, kept fresh while the process runs and removed as it
 * exits; one left by a killed process goes stale after 10 s, so a restart waits for it.
 */
async function lockDataFolder(dir: string, logger: Logger): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(dir, {
      realpath: false,
      stale: 10_000,
      update: 3_000,
      retries: { retries: 12, factor: 1, minTimeout: 1_000, maxTimeout: 1_000 },
      // Only if the event loop stalled past `stale`: another process may now hold it. Say so; stopping
      // here would lose more than it saves.
      onCompromised: (err) => logger.error({ err }, 'the embedded database lock was lost'),
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    throw new DataFolderInUseError(`Another process is using the embedded database in ${dir}. Stop it first, or give this one its own DATA_DIR.`, { cause: err });
  }
}

async function startEmbedded(dir: string, logger: Logger) {
  let unlock = async () => {};
  if (!dir.startsWith('memory://')) {
    mkdirSync(path.dirname(dir), { recursive: true });
    unlock = await lockDataFolder(dir, logger);
  }
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: EMBEDDED_CONNECTIONS });
  await server.start();
  const url = `postgresql://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
  logger.info({ dir }, 'embedded PostgreSQL (PGlite) started');
  return { db, server, url, unlock };
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const { logger } = options;
  if (options.databaseUrl) {
    const pool = createPool(options.databaseUrl, options.poolSize ?? 10, logger);
    return { pool, url: options.databaseUrl, embedded: false, close: () => pool.end() };
  }
  const embedded = await startEmbedded(options.embeddedDir ?? 'memory://', logger);
  const pool = createPool(embedded.url, EMBEDDED_CONNECTIONS, logger, true);
  return {
    pool,
    url: embedded.url,
    embedded: true,
    async close() {
      await pool.end();
      await embedded.server.stop();
      await embedded.db.close();
      await embedded.unlock();
    },
  };
}

/** SQLSTATE classes and socket errors that mean "the database cannot be reached", not "bad query". */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03']);

export function isDatabaseUnavailable(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
  return typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(message);
}
