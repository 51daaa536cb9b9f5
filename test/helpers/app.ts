/** Builds the real app on a test database, and a few helpers to drive it like a browser would. */
import type { Express } from 'express';
import request from 'supertest';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createApplication } from '../../src/application.js';
import { postgresBus } from '../../src/db/events.js';
import type { Random } from '../../src/game/ai.js';
import type { GameDeps } from '../../src/game/service.js';
import type { AuthLimitRules } from '../../src/auth/rate-limit.js';
import { loadConfig } from '../../src/config.js';
import { createTestDatabase, silentLogger, type DatabaseKind, type TestDatabase } from './database.js';

export interface TestApp {
  app: Express;
  db: TestDatabase;
  gameDeps: GameDeps;
  /** Set when started with `listen: true`: the HTTP and WebSocket server's base URL. */
  url: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  authLimits?: AuthLimitRules;
  /** Serve over HTTP with the live WebSocket, as server.ts does (supertest alone needs no port). */
  listen?: boolean;
  /** The port to listen on (default: any free one), when PUBLIC_ORIGIN must name it. */
  port?: number;
  clock?: () => number;
  random?: Random;
  /** How often game pages without JavaScript reload themselves (s). */
  pageReloadSeconds?: number;
  /** Extra environment for the configuration (PUBLIC_ORIGIN, TRUST_PROXY, BCRYPT_COST…). */
  env?: Record<string, string>;
}

/** Tests register many accounts from one address; the rate-limit tests set their own rules. */
const GENEROUS: AuthLimitRules = {
  loginFailuresPerIp: { points: 10_000, seconds: 60 },
  loginFailuresPerUsername: { points: 10_000, seconds: 60 },
  loginFailuresPerDevice: { points: 10_000, seconds: 60 },
  registerPerIp: { points: 10_000, seconds: 60 },
  registerRefusedPerIp: { points: 10_000, seconds: 60 },
  registerPerUsername: { points: 10_000, seconds: 60 },
  resetPerIp: { points: 10_000, seconds: 60 },
  resetPerAccount: { points: 10_000, seconds: 60 },
  emailPerAccount: { points: 10_000, seconds: 60 },
};

export async function startTestApp(kind: DatabaseKind, options: TestAppOptions = {}): Promise<TestApp> {
  const db = await createTestDatabase(kind);
  const bus = await postgresBus(db.pool, db.url, silentLogger);
  const config = loadConfig({
    NODE_ENV: 'test',
    SESSION_SECRET: 'test-secret-that-is-long-enough-for-the-schema',
    BCRYPT_COST: '4',
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const application = await createApplication(config, { db, logger: silentLogger, bus, authLimits: options.authLimits ?? GENEROUS, clock, random, pageReloadSeconds: options.pageReloadSeconds });
  let url = '';
  if (options.listen) {
    application.server.listen(options.port ?? 0, '127.0.0.1');
    await once(application.server, 'listening');
    url = `http://127.0.0.1:${(application.server.address() as AddressInfo).port}`;
  }
  return {
    app: application.app,
    db,
    gameDeps: application.gameDeps,
    url,
    async close() {
      await application.close({ force: true });
      await bus.close();
      await db.drop();
    },
  };
}

export type Agent = ReturnType<typeof request.agent>;

/** The CSRF token of the first form on a page. */
export function csrfTokenIn(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no CSRF token on the page');
  return match[1];
}

/** Loads a page with a form and posts it with the page's CSRF token, as a browser would. */
export async function submitForm(agent: Agent, pagePath: string, action: string, fields: Record<string, string>) {
  const page = await agent.get(pagePath);
  return agent.post(action).type('form').send({ _csrf: csrfTokenIn(page.text), ...fields });
}

let counter = 0;
/** A fresh valid username per call, so tests within one database never collide. */
export function uniqueName(prefix = 'player'): string {
  counter += 1;
  return `${prefix}${counter}${Math.random().toString(36).slice(2, 6)}`.slice(0, 20);
}

export const GOOD_PASSWORD = 'correct horse battery';

export async function registerUser(agent: Agent, username = uniqueName(), password = GOOD_PASSWORD) {
  const res = await submitForm(agent, '/register', '/register', { username, password, confirm: password });
  if (res.status !== 303) throw new Error(`registration failed with ${res.status}: ${res.text}`);
  return { username, password };
}

/** The session cookie as the client holds it, to compare ids and to replay stolen ones. */
export function sessionCookie(res: { headers: Record<string, unknown> }): string | undefined {
  const cookies = res.headers['set-cookie'] as string[] | undefined;
  return cookies?.find((c) => c.startsWith('ttt.sid='))?.split(';')[0];
}
