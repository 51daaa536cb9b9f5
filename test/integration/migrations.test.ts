/**
 * Migrations: applied once however many processes start together, and a second run is a no-op.
 * The real-server part runs two `npm run migrate` processes (the CLI, through tsx) at the same time.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { migrate, MIGRATIONS_DIR } from '../../src/db/migrate.js';
import { createServerDatabase, serverUrl, silentLogger } from '../helpers/database.js';
import { logLines, runScript } from '../helpers/process.js';

const CLI = 'src/db/migrate-cli.ts';
/** Child processes (tsx, and PGlite's initdb for the embedded one) are slow on a busy machine. */
const PROCESS_MS = 150_000;

/** Every migration in the folder, by the name node-pg-migrate records (the file name without .sql). */
const allMigrations = readdirSync(MIGRATIONS_DIR)
  .filter((file) => file.endsWith('.sql'))
  .map((file) => file.replace(/\.sql$/, ''))
  .sort();

async function recorded(query: (sql: string) => Promise<{ rows: { name: string; count: string }[] }>) {
  const { rows } = await query('SELECT name, count(*) AS count FROM pgmigrations GROUP BY name ORDER BY name');
  return rows.map((r) => ({ name: r.name, count: Number(r.count) }));
}

const once = allMigrations.map((name) => ({ name, count: 1 }));

it('finds the migrations folder and at least the accounts migration', () => {
  expect(allMigrations[0]).toBe('0001_accounts');
});

/** A fresh, unmigrated database on the embedded server, with a pool. */
async function freshEmbedded(): Promise<Database & { drop(): Promise<void> }> {
  const server = await createServerDatabase('embedded');
  const db = await openDatabase({ databaseUrl: server.url, logger: silentLogger, poolSize: 2 });
  return {
    ...db,
    async drop() {
      await db.close();
      await server.drop();
    },
  };
}

describe('migrations on the embedded server', () => {
  let db: Awaited<ReturnType<typeof freshEmbedded>>;
  beforeAll(async () => {
    db = await freshEmbedded();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('applies every migration the first time, nothing the second time', async () => {
    expect(await migrate(db.url, silentLogger)).toEqual(allMigrations);
    expect(await migrate(db.url, silentLogger)).toEqual([]);
    expect(await recorded((sql) => db.pool.query(sql))).toEqual(once);
  });

  it('takes turns when called twice at once', async () => {
    const fresh = await freshEmbedded();
    try {
      const results = await Promise.all([migrate(fresh.url, silentLogger), migrate(fresh.url, silentLogger)]);
      // Either may win the advisory lock: one applies everything, the other finds nothing left.
      expect([...results].sort((a, b) => b.length - a.length)).toEqual([allMigrations, []]);
      expect(await recorded((sql) => fresh.pool.query(sql))).toEqual(once);
    } finally {
      await fresh.drop();
    }
  });

  it('creates the tables the app needs', async () => {
    const { rows } = await db.pool.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['pgmigrations', 'rate_limits', 'session', 'users']));
  });
});

describe('npm run migrate on an embedded database in DATA_DIR', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'ttt-migrate-'));
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('migrates the data folder, then finds it up to date', async () => {
    const env = { DATA_DIR: dataDir, LOG_LEVEL: 'info' };
    const first = await runScript(CLI, env);
    expect(first.code, first.stderr).toBe(0);
    expect(logLines(first.stdout).map((l) => l.msg)).toContain(`applied ${allMigrations.join(', ')}`);
    const second = await runScript(CLI, env);
    expect(second.code, second.stderr).toBe(0);
    expect(logLines(second.stdout).map((l) => l.msg)).toContain('database is up to date');
  }, PROCESS_MS);
});

describe.skipIf(!serverUrl)('npm run migrate on a PostgreSQL server', () => {
  let server: Awaited<ReturnType<typeof createServerDatabase>>;
  let dataDir: string;
  beforeAll(async () => {
    server = await createServerDatabase();
    dataDir = mkdtempSync(path.join(tmpdir(), 'ttt-migrate-'));
  });
  afterAll(async () => {
    await server?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function query(sql: string) {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  }

  it('two processes started together both succeed, and each migration is recorded exactly once', async () => {
    // One DATA_DIR for both, as two instances of one deployment would share it.
    const env = { DATABASE_URL: server.url, DATA_DIR: dataDir, LOG_LEVEL: 'info' };
    const [a, b] = await Promise.all([runScript(CLI, env), runScript(CLI, env)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);

    // One applied everything; the other waited for the lock and found nothing left to do.
    const messages = [a, b].map((run) => logLines(run.stdout).map((l) => l.msg));
    const applied = messages.filter((m) => m.includes(`applied ${allMigrations.join(', ')}`));
    const upToDate = messages.filter((m) => m.includes('database is up to date'));
    expect([applied.length, upToDate.length]).toEqual([1, 1]);

    expect(await recorded(query)).toEqual(once);
    const { rows } = await query(`SELECT to_regclass('users') AS users, to_regclass('session') AS session, to_regclass('rate_limits') AS limits`);
    expect(rows[0]).toEqual({ users: 'users', session: 'session', limits: 'rate_limits' });
  }, PROCESS_MS);

  it('applies nothing when run again', async () => {
    const again = await runScript(CLI, { DATABASE_URL: server.url, DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    expect(again.code, again.stderr).toBe(0);
    expect(logLines(again.stdout).map((l) => l.msg)).toContain('database is up to date');
    expect(await recorded(query)).toEqual(once);
  }, PROCESS_MS);

  it('fails with exit code 1 and a message naming the variable on a bad DATABASE_URL', async () => {
    const bad = await runScript(CLI, { DATABASE_URL: 'mysql://localhost/ttt', DATA_DIR: dataDir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Invalid configuration:\n  - DATABASE_URL: must start with postgres:// or postgresql://');
    expect(bad.stderr).not.toMatch(/^\s+at /m); // a message, not a stack trace
  }, PROCESS_MS);

  it('fails with exit code 1 and logs why when the database cannot be reached', async () => {
    const missing = new URL(server.url);
    missing.pathname = '/ttt_no_such_database';
    const failed = await runScript(CLI, { DATABASE_URL: missing.toString(), DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    expect(failed.code).toBe(1);
    const error = logLines(failed.stdout).find((l) => l.msg === 'migration failed');
    expect(error).toMatchObject({ err: { message: expect.stringContaining('ttt_no_such_database') } });
  }, PROCESS_MS);
});
