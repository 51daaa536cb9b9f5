/**
 * Several app instances on one database, in this process or as child processes: each instance has
 * its own pool, its own LISTEN/NOTIFY bus and its own HTTP + WebSocket server, and they share
 * nothing but PostgreSQL, as in production.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { createApplication } from '../../src/application.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase, type Database } from '../../src/db/database.js';
import { postgresBus } from '../../src/db/events.js';
import type { Random } from '../../src/game/ai.js';
import type { GameDeps } from '../../src/game/service.js';
import type { AuthLimitRules } from '../../src/auth/rate-limit.js';
import { silentLogger } from './database.js';
import { startScript, type Running } from './process.js';

export const SHARED_SECRET = 'a-secret-shared-by-every-instance-0123456789';

const GENEROUS: AuthLimitRules = {
  loginFailuresPerIp: { points: 100_000, seconds: 60 },
  loginFailuresPerUsername: { points: 100_000, seconds: 60 },
  loginFailuresPerDevice: { points: 100_000, seconds: 60 },
  registerPerIp: { points: 100_000, seconds: 60 },
  registerRefusedPerIp: { points: 100_000, seconds: 60 },
  registerPerUsername: { points: 100_000, seconds: 60 },
  resetPerIp: { points: 100_000, seconds: 60 },
  resetPerAccount: { points: 100_000, seconds: 60 },
  emailPerAccount: { points: 100_000, seconds: 60 },
};

export interface Instance {
  app: Express;
  db: Database;
  gameDeps: GameDeps;
  url: string;
  close(): Promise<void>;
}

/** An in-process instance on an existing (migrated) server database, listening on a free port. */
export async function startInstanceOn(
  databaseUrl: string,
  options: { clock?: () => number; random?: Random; env?: Record<string, string> } = {},
): Promise<Instance> {
  const db = await openDatabase({ databaseUrl, logger: silentLogger, poolSize: 8 });
  const bus = await postgresBus(db.pool, databaseUrl, silentLogger);
  const config = loadConfig({
    NODE_ENV: 'test',
    SESSION_SECRET: SHARED_SECRET,
    BCRYPT_COST: '4',
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const application = await createApplication(config, { db, logger: silentLogger, bus, authLimits: GENEROUS, clock, random });
  application.server.listen(0, '127.0.0.1');
  await once(application.server, 'listening');
  return {
    app: application.app,
    db,
    gameDeps: application.gameDeps,
    url: `http://127.0.0.1:${(application.server.address() as AddressInfo).port}`,
    async close() {
      await application.close({ force: true });
      await bus.close();
      await db.close();
    },
  };
}

export interface ServerProcess {
  process: Running;
  url: string;
  port: number;
  pid: number;
}

/** `src/server.ts` as a child process on the database; port 0 picks a free one. */
export async function startServerProcess(databaseUrl: string, env: Record<string, string> = {}, port = 0): Promise<ServerProcess> {
  const running = startScript('src/server.ts', {
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    SESSION_SECRET: SHARED_SECRET,
    BCRYPT_COST: '4',
    LOG_LEVEL: 'info',
    ...env,
  });
  const line = await running.waitForLine(/"msg":"listening on /, 30_000);
  const listening = (JSON.parse(line) as { port: number }).port;
  return { process: running, url: `http://127.0.0.1:${listening}`, port: listening, pid: running.child.pid! };
}

/** Stops a child process (SIGTERM unless told otherwise) and waits for it to end. */
export async function stopServerProcess(instance: ServerProcess | undefined, signal: NodeJS.Signals = 'SIGTERM') {
  if (!instance) return;
  const { child } = instance.process;
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  await instance.process.exited;
}
