/**
 * Test databases: every test file gets its own, created on the embedded PostgreSQL server that
 * test/global-setup.ts starts for the run (the newcomer's default) and, when TEST_DATABASE_URL (or
 * DATABASE_URL) names a server, on that server too.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';

export type DatabaseKind = 'embedded' | 'server';

export const serverUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;

/** The kinds to run integration tests against: always the embedded one, plus a server if named. */
export const databaseKinds: DatabaseKind[] = serverUrl ? ['embedded', 'server'] : ['embedded'];

export const silentLogger = pino({ level: 'silent' });

/** The maintenance database URL of a kind's server. */
export function adminUrl(kind: DatabaseKind): string {
  if (kind === 'embedded') return inject('embeddedUrl');
  if (!serverUrl) throw new Error('No TEST_DATABASE_URL');
  return serverUrl;
}

export interface TestDatabase extends Database {
  drop(): Promise<void>;
}

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function onServer(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates an empty database (not migrated) on a kind's server; returns its URL and a way to drop it. */
export async function createServerDatabase(kind: DatabaseKind = 'server'): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = adminUrl(kind);
  const name = `ttt_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await onServer(admin, `CREATE DATABASE ${name}`);
  return {
    url: withDatabaseName(admin, name),
    drop: () => onServer(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  const server = await createServerDatabase(kind);
  const db = await openDatabase({ databaseUrl: server.url, logger: silentLogger, poolSize: 5 });
  await migrate(db.url, silentLogger);
  return {
    ...db,
    async drop() {
      await db.close();
      await server.drop();
    },
  };
}
