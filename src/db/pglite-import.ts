/**
 * Until version 0.1 the embedded database was PGlite, in DATA_DIR/pglite. On the first start of the
 * real embedded server, its data is copied over once, so people who played keep their accounts,
 * ratings and games. The old folder is kept; DATA_DIR/pglite-imported records the import.
 *
 * The copy is schema-true: the new database is migrated to the old one's migration version, every
 * table's rows go over as JSON (json_populate_recordset converts each column with its own type's
 * input function), sequences get their old values, then the normal migration run applies the rest.
 * The rows go over in one transaction; an import interrupted before it committed leaves tables
 * without accounts or games, which the next start clears and imports again.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { EmbeddedDatabaseError } from './embedded.js';
import { migrate } from './migrate.js';

type PGliteLike = {
  query<T>(sql: string): Promise<{ rows: T[] }>;
  close(): Promise<void>;
};

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Reads the old database's migration names, tables (with row JSON) and sequence values. */
async function readPglite(dir: string) {
  const { PGlite } = await import('@electric-sql/pglite');
  const old = (await PGlite.create(dir)) as unknown as PGliteLike;
  try {
    const migrations = (await old.query<{ name: string }>('SELECT name FROM pgmigrations ORDER BY run_on, id')).rows.map((r) => r.name);
    const tableNames = (
      await old.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'pgmigrations' ORDER BY 1`)
    ).rows.map((r) => r.name);
    const tables: { name: string; json: string; count: number }[] = [];
    for (const name of tableNames) {
      const [row] = (await old.query<{ rows: unknown[] }>(`SELECT coalesce(json_agg(t), '[]'::json) AS rows FROM ${quote(name)} t`)).rows;
      const rows = row?.rows ?? [];
      tables.push({ name, json: JSON.stringify(rows), count: rows.length });
    }
    const sequences = (
      await old.query<{ name: string; value: string | null }>(`SELECT sequencename AS name, last_value::text AS value FROM pg_sequences WHERE schemaname = 'public'`)
    ).rows;
    return { migrations, tables, sequences };
  } finally {
    await old.close();
  }
}

/**
 * 'fresh': no tables yet. 'unused': tables but no account and no game, as an import interrupted
 * after its migrations leaves it (or a site nobody has used): safe to start again from nothing.
 * 'used': people's data, never overwritten.
 */
async function targetState(url: string): Promise<'fresh' | 'unused' | 'used'> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('users', 'games')`);
    if (rows.length === 0) return 'fresh';
    if (rows.length === 2) {
      const { rows: data } = await client.query('SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM games) AS used');
      if (data[0].used) return 'used';
    }
    await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    return 'unused';
  } finally {
    await client.end();
  }
}

async function copyRows(url: string, data: Awaited<ReturnType<typeof readPglite>>) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    // Rows arrive table by table in any order: foreign keys are checked by triggers, off for this copy.
    await client.query(`SET LOCAL session_replication_role = replica`);
    for (const table of data.tables) {
      const name = quote(table.name);
      await client.query(`INSERT INTO ${name} OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_recordset(NULL::${name}, $1::json)`, [table.json]);
    }
    for (const seq of data.sequences) {
      if (seq.value !== null) await client.query('SELECT setval($1::regclass, $2::bigint)', [quote(seq.name), seq.value]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}

/**
 * Imports DATA_DIR/pglite into the server at `url` if it exists, was not imported yet and the
 * server's database is still empty. Logs the row count of every table imported.
 * @returns the counts per table, or undefined when there was nothing to do.
 */
export async function importPgliteOnce(dataDir: string, url: string, logger: Logger): Promise<Record<string, number> | undefined> {
  const source = path.join(dataDir, 'pglite');
  const marker = path.join(dataDir, 'pglite-imported');
  if (!existsSync(path.join(source, 'PG_VERSION')) || existsSync(marker)) return undefined;
  if ((await targetState(url)) === 'used') {
    logger.warn({ source }, 'not importing the old PGlite data: the embedded database already has accounts or games');
    return undefined;
  }
  logger.info({ source }, 'importing the data of the earlier embedded database (PGlite), once');
  let data: Awaited<ReturnType<typeof readPglite>>;
  try {
    data = await readPglite(source);
  } catch (err) {
    throw new EmbeddedDatabaseError(`Could not read the earlier embedded database in ${source} (${(err as Error).message}). Move that folder aside to start without it; nothing in it was changed.`, { cause: err });
  }
  await migrate(url, logger, data.migrations.length);
  await copyRows(url, data);
  const counts = Object.fromEntries(data.tables.map((t) => [t.name, t.count]));
  writeFileSync(marker, `Imported into DATA_DIR/postgres on ${new Date().toISOString()}: ${JSON.stringify(counts)}\n`);
  logger.info({ source, rows: counts }, 'imported the PGlite data; the old folder is kept and no longer used');
  return counts;
}
