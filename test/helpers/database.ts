/**
 * Test databases: every test file gets its own, on the embedded PGlite and, when
 * TEST_DATABASE_URL (or DATABASE_URL) names a server, on a fresh database created there.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrate } from '../../src/db/migrate.js';

export type DatabaseKind = 'embedded' | 'server';

export const serverUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;

/** The kinds to run integration tests against: always the embedded one, plus a server if named. */
export const databaseKinds: DatabaseKind[] = serverUrl ? ['embedded', 'server'] : ['embedded'];

export const silentLogger = pino({ level: 'silent' });

export interface TestDatabase extends Database {
  drop(): Promise<void>;
}

function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** Creates an empty database on the server (not migrated); returns its URL and a way to drop it. */
export async function createServerDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!serverUrl) throw new Error('No TEST_DATABASE_URL');
  const name = `ttt_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: withDatabaseName(serverUrl, name),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'embedded') {
    const db = await openDatabase({ embeddedDir: 'memory://', logger: silentLogger });
    await migrate(db.url, silentLogger);
    return { ...db, drop: () => db.close() };
  }
  const server = await createServerDatabase();
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
