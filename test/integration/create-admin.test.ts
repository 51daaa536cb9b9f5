/** `npm run create-admin` on a fresh database: creates an admin, or promotes an existing account. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createServerDatabase, databaseKinds } from '../helpers/database.js';
import { ROOT } from '../helpers/process.js';

function createAdmin(args: string[], env: Record<string, string>, stdin: string) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/ops/create-admin.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', BCRYPT_COST: '4', ...env },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => resolve({ code, out }));
    child.stdin.end(stdin);
  });
}

describe.each(databaseKinds)('create-admin on a fresh %s database', (kind) => {
  let database: Awaited<ReturnType<typeof createServerDatabase>>;
  afterAll(async () => {
    await database?.drop();
  });

  it('creates an admin with a password from stdin, refuses a weak one, and promotes an existing account', async () => {
    database = await createServerDatabase(kind);
    const env = { DATABASE_URL: database.url, SESSION_SECRET: 'x'.repeat(40) };

    const weak = await createAdmin(['boss'], env, 'password\n');
    expect(weak.code).toBe(1);
    expect(weak.out).toContain('That password is too common.');

    const made = await createAdmin(['boss'], env, 'a long admin passphrase\n');
    expect(made.out).toContain('Created the admin account boss.');
    expect(made.code).toBe(0);

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query(`INSERT INTO users (username, password_hash) VALUES ('helper', 'x')`);
      const promoted = await createAdmin(['HELPER'], env, '');
      expect(promoted.out).toContain('helper is now an admin.');
      const { rows } = await client.query(`SELECT username, is_admin FROM users ORDER BY id`);
      expect(rows).toEqual([
        { username: 'boss', is_admin: true },
        { username: 'helper', is_admin: true },
      ]);
      const log = await client.query(`SELECT action, admin_id FROM admin_actions ORDER BY id`);
      expect(log.rows).toEqual([
        { action: 'create_admin', admin_id: null },
        { action: 'create_admin', admin_id: null },
      ]);
    } finally {
      await client.end();
    }
  });
});

describe('create-admin on the embedded database', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ttt-admin-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('works with no configuration but a data folder', { timeout: 120_000 }, async () => {
    const made = await createAdmin(['firstadmin'], { DATA_DIR: dir }, 'a long admin passphrase\n');
    expect(made.out).toContain('Created the admin account firstadmin.');
    const again = await createAdmin(['firstadmin'], { DATA_DIR: dir }, '');
    expect(again.out).toContain('firstadmin is now an admin.');
  });
});
