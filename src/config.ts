/**
 * Every setting the app reads from the environment, parsed and validated once at start.
 * A bad value stops the process with one clear line per problem instead of failing later.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const SESSION_SECRET_MIN = 32;

/** A whole number in a range, written as plain digits: `PORT=3e3` or `PORT= ` are mistakes, not 3000 and 0. */
const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be a whole number from ${min} to ${max}`).max(max, `must be a whole number from ${min} to ${max}`));

/** Express's `trust proxy`: false, true, a hop count, or a comma list of names and IP addresses or subnets. */
function isTrustProxy(value: string): boolean {
  if (/^(false|true|\d+)$/i.test(value)) return true;
  return value.split(',').every((entry) => {
    const item = entry.trim();
    if (/^(loopback|linklocal|uniquelocal)$/.test(item)) return true;
    const [address = '', prefix, ...rest] = item.split('/');
    if (rest.length > 0 || isIP(address) === 0) return false;
    return prefix === undefined || /^\d{1,3}$/.test(prefix) || isIP(prefix) !== 0;
  });
}

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test'], { error: 'must be development, production or test' }).default('development'),
  PORT: wholeNumber(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  SESSION_SECRET: z.string().min(SESSION_SECRET_MIN, `must be at least ${SESSION_SECRET_MIN} characters`).optional(),
  PUBLIC_ORIGIN: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) origin such as https://ttt.example' })
    .transform((value) => new URL(value).origin)
    .optional(),
  TRUST_PROXY: z
    .string()
    .refine(isTrustProxy, 'must be false, true, a hop count, or a comma list of loopback, linklocal, uniquelocal and IP addresses or subnets')
    .default('false'),
  BCRYPT_COST: wholeNumber(4, 15).default(12),
  LOG_LEVEL: z.enum(logLevels, { error: `must be one of ${logLevels.join(', ')}` }).default('info'),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^/]+/, 'must be an SMTP URL such as smtp://user:pass@host:587 or smtps://host:465')
    .optional(),
  MAIL_FROM: z.string().min(3).max(200).default('Tic-Tac-Toe Online <no-reply@localhost>'),
  ENGINE_BUDGET_MS: wholeNumber(20, 10_000).default(200),
  ENGINE_THREADS: wholeNumber(1, 64).optional(),
})
  // Checked with the rest, so that every problem is listed in one go.
  .refine((env) => env.NODE_ENV !== 'production' || env.SESSION_SECRET !== undefined, {
    path: ['SESSION_SECRET'],
    message: 'required when NODE_ENV=production',
    when: (payload) => payload.issues.every((issue) => issue.path?.[0] !== 'NODE_ENV'),
  });

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  /** Absent: run the embedded PostgreSQL server in dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  sessionSecret: string;
  /** Where people reach the site; WebSocket upgrades must come from this origin. */
  publicOrigin: string | undefined;
  /** Cookies get the Secure flag when the public origin is https. */
  secureCookies: boolean;
  /** Express's `trust proxy` setting: false, a hop count, or addresses. */
  trustProxy: boolean | number | string;
  bcryptCost: number;
  logLevel: (typeof logLevels)[number];
  /** Where mail goes (nodemailer); absent: mail is written to the log, or off in production. */
  smtpUrl: string | undefined;
  /** The From of every mail. */
  mailFrom: string;
  /** Hard Ultimate's thinking time per move when the engine's pool is not queueing (ms). */
  engineBudgetMs: number;
  /** The engine's worker threads; absent: one fewer than the cores, at least one. */
  engineThreads: number | undefined;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function parseTrustProxy(value: string): boolean | number | string {
  if (/^false$/i.test(value)) return false;
  if (/^true$/i.test(value)) return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/**
 * The secret that signs session cookies. Production must set it; elsewhere one is generated on
 * first start and kept in the data folder so that sessions survive a restart.
 */
function sessionSecretFor(env: z.infer<typeof envSchema>): string {
  if (env.SESSION_SECRET) return env.SESSION_SECRET;
  if (env.NODE_ENV === 'production') {
    throw new ConfigError(['SESSION_SECRET: required when NODE_ENV=production']);
  }
  const file = path.join(env.DATA_DIR, 'session-secret');
  const read = () => {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length < SESSION_SECRET_MIN) {
      throw new ConfigError([`SESSION_SECRET: the file ${file} holds fewer than ${SESSION_SECRET_MIN} characters; delete it to make a new one`]);
    }
    return kept;
  };
  try {
    return read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(env.DATA_DIR, { recursive: true });
  // Written whole under a private name, then linked into place: when two processes start together
  // on a new data folder, the first link wins, the other fails with EEXIST, and both read the same.
  const draft = `${file}.${process.pid}.tmp`;
  writeFileSync(draft, randomBytes(32).toString('hex'), { mode: 0o600 });
  try {
    linkSync(draft, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(draft);
  }
  return read();
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set", as it does in docker-compose files and .env files.
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const env = parsed.data;
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    dataDir: path.resolve(env.DATA_DIR),
    sessionSecret: sessionSecretFor(env),
    publicOrigin: env.PUBLIC_ORIGIN,
    secureCookies: env.PUBLIC_ORIGIN?.startsWith('https:') ?? false,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    bcryptCost: env.BCRYPT_COST,
    logLevel: env.LOG_LEVEL,
    engineBudgetMs: env.ENGINE_BUDGET_MS,
    engineThreads: env.ENGINE_THREADS,
    smtpUrl: env.SMTP_URL,
    mailFrom: env.MAIL_FROM,
  };
}

/** For the entry points (server, migrate, create-admin): a bad configuration prints its problems and exits 1. */
export function loadConfigOrExit(source: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(source);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
}
