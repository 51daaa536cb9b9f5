/**
 * The embedded server's life as an operator meets it: Ctrl-C, `kill -9` and a restart, tools run
 * beside the app, a damaged data folder, and the one-time import of the PGlite data folder that
 * versions before the real embedded server used (test/fixtures/pglite-data-v0.tgz was made by that
 * code: `npm start`, then alice and bob registered and played a friend game that alice won as X,
 * and bob started a game against the computer).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { csrfTokenIn, GOOD_PASSWORD, registerUser, uniqueName } from '../helpers/app.js';
import { logLines, ROOT, runScript, startScript, type Running } from '../helpers/process.js';

const SERVER = 'src/server.ts';
const STEP_MS = 120_000;

const dirs: string[] = [];
const running: Running[] = [];

function dataFolder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ttt-life-'));
  dirs.push(dir);
  return dir;
}

async function start(dataDir: string): Promise<{ server: Running; origin: string }> {
  const server = startScript(SERVER, { DATA_DIR: dataDir, PORT: '0', BCRYPT_COST: '4', LOG_LEVEL: 'info' });
  running.push(server);
  const line = await server.waitForLine(/"msg":"listening on /, 90_000);
  return { server, origin: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}` };
}

/** The PID in postmaster.pid, if the file is there. */
function postmasterPid(dataDir: string): number | undefined {
  const file = path.join(dataDir, 'postgres', 'postmaster.pid');
  return existsSync(file) ? Number(readFileSync(file, 'utf8').split('\n')[0]) : undefined;
}

/** Command lines of running processes that mention the folder (postgres -D <dir>/postgres …). */
function processesOn(dataDir: string): string[] {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(path.join(dataDir, 'postgres')));
}

async function logIn(origin: string, username: string, password: string) {
  const agent = request.agent(origin);
  const page = await agent.get('/login');
  const res = await agent.post('/login').type('form').send({ _csrf: csrfTokenIn(page.text), username, password });
  return { agent, res };
}

afterEach(async () => {
  for (const server of running.splice(0)) {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGINT');
    await server.exited;
  }
  for (const dir of dirs.splice(0)) {
    const pid = postmasterPid(dir);
    if (pid) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('the embedded PostgreSQL server', () => {
  it('Ctrl-C: requests finish, the server stops, the process exits 0 and leaves no PostgreSQL behind', { timeout: STEP_MS }, async () => {
    const dataDir = dataFolder();
    const { server, origin } = await start(dataDir);
    await registerUser(request.agent(origin));
    expect(processesOn(dataDir).length).toBeGreaterThan(0);

    server.child.kill('SIGINT');
    const finished = await server.exited;
    expect(finished.code).toBe(0);
    expect(logLines(finished.stdout).map((l) => l.msg)).toEqual(expect.arrayContaining(['embedded PostgreSQL stopped', 'stopped']));
    expect(postmasterPid(dataDir)).toBeUndefined();
    expect(processesOn(dataDir)).toEqual([]);
  });

  it('after kill -9 of the app, the next start stops the orphaned server and serves the earlier data within 15 s', { timeout: STEP_MS }, async () => {
    const dataDir = dataFolder();
    const first = await start(dataDir);
    const { username, password } = await registerUser(request.agent(first.origin));
    first.server.child.kill('SIGKILL');
    await first.server.exited;
    // The server lives on without its app: its own session, so the kill did not reach it.
    const orphan = postmasterPid(dataDir);
    expect(orphan).toBeDefined();
    expect(() => process.kill(orphan!, 0)).not.toThrow();

    const startedAt = Date.now();
    const second = await start(dataDir);
    const seconds = (Date.now() - startedAt) / 1000;
    console.info(`restart after kill -9: serving after ${seconds.toFixed(1)} s`);
    expect(seconds).toBeLessThan(15);
    expect(logLines(second.server.stdout).map((l) => l.msg)).toContain('stopping an embedded PostgreSQL left running by an earlier process');
    const { res } = await logIn(second.origin, username, password);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/');
  });

  it('npm run migrate and create-admin work beside the running app, on its server', { timeout: STEP_MS }, async () => {
    const dataDir = dataFolder();
    const { origin } = await start(dataDir);
    const migrated = await runScript('src/db/migrate-cli.ts', { DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(logLines(migrated.stdout).map((l) => l.msg)).toEqual(expect.arrayContaining(['using the embedded PostgreSQL that the running app started', 'database is up to date']));

    const admin = uniqueName('boss');
    const withPassword = execFileSync(process.execPath, ['--import', 'tsx', 'src/ops/create-admin.ts', admin], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, DATA_DIR: dataDir },
      input: `${GOOD_PASSWORD}\n`,
      encoding: 'utf8',
    });
    expect(withPassword).toContain(`Created the admin account ${admin}.`);
    // The running app sees the account at once: it is the same server.
    const { agent, res } = await logIn(origin, admin, GOOD_PASSWORD);
    expect(res.status).toBe(303);
    expect((await agent.get('/admin/users')).status).toBe(200);
  });

  it('a damaged data folder: exit 1 with what to do, nothing deleted, no process left', { timeout: STEP_MS }, async () => {
    const dataDir = dataFolder();
    const first = await start(dataDir);
    first.server.child.kill('SIGINT');
    await first.server.exited;
    // The cluster's control file is lost (a bad copy, a failing disk).
    rmSync(path.join(dataDir, 'postgres', 'global', 'pg_control'));
    const finished = await runScript(SERVER, { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info' });
    expect(finished.code).toBe(1);
    expect(finished.stderr).toContain(`Could not start: The embedded database in ${path.join(dataDir, 'postgres')} did not start.`);
    expect(finished.stderr).toContain(`move ${path.join(dataDir, 'postgres')} aside to start afresh`);
    expect(existsSync(path.join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);
    expect(processesOn(dataDir)).toEqual([]);
  });

  it('listens on no TCP port: its socket is in the cluster folder, which only its owner can enter', { timeout: STEP_MS }, async () => {
    const dataDir = dataFolder();
    const { server } = await start(dataDir);
    const url = logLines(server.stdout).find((l) => l.msg === 'embedded PostgreSQL started');
    expect(url).toBeDefined();
    expect(url!.port).toBeUndefined();
    const client = new pg.Client({ connectionString: `postgres://postgres@localhost/postgres?host=${encodeURIComponent(path.join(dataDir, 'postgres'))}` });
    await client.connect();
    try {
      expect((await client.query('SHOW listen_addresses')).rows[0].listen_addresses).toBe('');
      expect((await client.query('SHOW unix_socket_directories')).rows[0].unix_socket_directories).toBe(path.join(dataDir, 'postgres'));
    } finally {
      await client.end();
    }
    expect(statSync(path.join(dataDir, 'postgres')).mode & 0o077).toBe(0);
    expect(statSync(path.join(dataDir, 'postgres-password')).mode & 0o077).toBe(0);
  });

  it('a postmaster.pid naming another live process (a reused PID) is removed, never signalled', { timeout: STEP_MS }, async () => {
    const dataDir = dataFolder();
    const first = await start(dataDir);
    first.server.child.kill('SIGINT');
    await first.server.exited;
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), `${bystander.pid}\n${path.join(dataDir, 'postgres')}\n0\n5432\n\n\n0 0\nready\n`);
      const second = await start(dataDir);
      expect(logLines(second.server.stdout).map((l) => l.msg)).toContain('removing a stale postmaster.pid that names another process');
      expect(bystander.exitCode).toBeNull();
      expect(() => process.kill(bystander.pid!, 0)).not.toThrow();
    } finally {
      bystander.kill('SIGKILL');
    }
  });

  it.each([
    ['writable by other users', (dir: string) => chmodSync(dir, 0o777), 'must belong to this user'],
    ['with a character the shell would expand', (dir: string) => dir, 'contains $'],
  ])('refuses a DATA_DIR %s, with a message', { timeout: STEP_MS }, async (_what, prepare, message) => {
    let dataDir = dataFolder();
    if (message === 'contains $') {
      dataDir = path.join(dataDir, 'a`touch x`b');
    } else prepare(dataDir);
    const finished = await runScript(SERVER, { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info' });
    expect(finished.code).toBe(1);
    expect(finished.stderr).toContain(message);
    expect(existsSync(path.join(dataDir, 'postgres'))).toBe(false);
  });

  it('Ctrl-C or a closed terminal while the cluster is being created: it finishes, stops, and the next start serves', { timeout: STEP_MS }, async () => {
    for (const signal of ['SIGINT', 'SIGHUP'] as const) {
      const dataDir = dataFolder();
      // A draft left by an earlier interrupted start is cleared.
      mkdirSync(path.join(dataDir, 'postgres.new'));
      const server = startScript(SERVER, { DATA_DIR: dataDir, PORT: '0', BCRYPT_COST: '4', LOG_LEVEL: 'info' });
      running.push(server);
      await server.waitForLine(/creating the embedded PostgreSQL/, 60_000);
      server.child.kill(signal);
      const finished = await server.exited;
      expect(finished.code, finished.stderr).toBe(0);
      expect(logLines(finished.stdout).map((l) => l.msg)).toContain('stopped while starting');
      expect(processesOn(dataDir)).toEqual([]);
      const again = await start(dataDir);
      expect((await request(again.origin).get('/')).status).toBe(200);
      expect(existsSync(path.join(dataDir, 'postgres.new'))).toBe(false);
    }
  });

  it('an earlier import that stopped halfway (tables, no accounts or games) is done again', { timeout: STEP_MS }, async () => {
    const dataDir = dataFolder();
    const first = await start(dataDir);
    first.server.child.kill('SIGINT');
    await first.server.exited;
    execFileSync('tar', ['xzf', path.join(ROOT, 'test/fixtures/pglite-data-v0.tgz'), '-C', dataDir]);
    const second = await start(dataDir);
    expect(logLines(second.server.stdout).find((l) => l.msg === 'imported the PGlite data; the old folder is kept and no longer used')?.rows).toMatchObject({ users: 2 });
    expect((await logIn(second.origin, 'alice', 'correct horse battery')).res.status).toBe(303);
  });

  it('a damaged PGlite folder stops the start with what to do', { timeout: STEP_MS }, async () => {
    const dataDir = dataFolder();
    mkdirSync(path.join(dataDir, 'pglite'));
    writeFileSync(path.join(dataDir, 'pglite', 'PG_VERSION'), '17\n');
    const finished = await runScript(SERVER, { DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'info' });
    expect(finished.code).toBe(1);
    expect(finished.stderr).toContain(`Could not read the earlier embedded database in ${path.join(dataDir, 'pglite')}`);
    expect(finished.stderr).toContain('Move that folder aside to start without it');
    expect(processesOn(dataDir)).toEqual([]);
  });

  it('imports a PGlite data folder once: accounts, passwords, sessions and games carry over', { timeout: STEP_MS }, async () => {
    const dataDir = dataFolder();
    execFileSync('tar', ['xzf', path.join(ROOT, 'test/fixtures/pglite-data-v0.tgz'), '-C', dataDir]);
    const first = await start(dataDir);
    const imported = logLines(first.server.stdout).find((l) => l.msg === 'imported the PGlite data; the old folder is kept and no longer used');
    expect(imported?.rows).toMatchObject({ users: 2, games: 2, moves: 5 });

    const { agent, res } = await logIn(first.origin, 'alice', 'correct horse battery');
    expect(res.status).toBe(303);
    const profile = await agent.get('/users/alice');
    expect(profile.status).toBe(200);
    expect(profile.text).toContain('bob');
    // New rows get new ids after the imported ones (sequences carried over).
    await registerUser(request.agent(first.origin));
    expect(existsSync(path.join(dataDir, 'pglite', 'PG_VERSION'))).toBe(true);

    first.server.child.kill('SIGINT');
    await first.server.exited;
    const second = await start(dataDir);
    expect(logLines(second.server.stdout).map((l) => l.msg)).not.toContain('importing the data of the earlier embedded database (PGlite), once');
    expect((await logIn(second.origin, 'bob', 'correct horse battery')).res.status).toBe(303);
  });
});

describe.skipIf(spawnSync('sh', ['-c', 'command -v nginx']).status !== 0)('npm run stack without DATABASE_URL', () => {
  it('runs two instances behind nginx on the embedded server, and Ctrl-C stops them all', { timeout: STEP_MS }, async () => {
    const dataDir = dataFolder();
    const stack = startScript('src/ops/stack.ts', { DATA_DIR: dataDir, LOG_LEVEL: 'warn', BCRYPT_COST: '4' });
    running.push(stack);
    const line = await stack.waitForLine(/Tic-Tac-Toe Online is up at /, 90_000);
    const url = /up at (http:\/\/[^ ]+) /.exec(line)![1]!;
    // Register through one instance, log in through whichever nginx picks: one shared database.
    const { username, password } = await registerUser(request.agent(url));
    const { res } = await logIn(url, username, password);
    expect(res.status).toBe(303);
    stack.child.kill('SIGINT');
    expect((await stack.exited).code).toBe(0);
    expect(postmasterPid(dataDir)).toBeUndefined();
    expect(processesOn(dataDir)).toEqual([]);
  });
});
