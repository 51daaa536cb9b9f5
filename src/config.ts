/**
 * Every setting the app reads from the environment, parsed and validated once at start.
 * A bad value stops the process with one clear line per problem instead of failing later.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  PUBLIC_ORIGIN: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) origin such as https://ttt.example' })
    .transform((value) => new URL(value).origin)
    .optional(),
  TRUST_PROXY: z
    .string()
    .regex(/^(false|true|\d+|loopback|[\d.:/a-f, ]+)$/i, 'must be false, a hop count, loopback or addresses')
    .default('false'),
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(12),
  LOG_LEVEL: z.enum(logLevels).default('info'),
});

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  /** Absent: run the embedded PGlite in dataDir. */
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
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    const secret = randomBytes(32).toString('hex');
    mkdirSync(env.DATA_DIR, { recursive: true });
    writeFileSync(file, secret, { mode: 0o600 });
    return secret;
  }
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
  };
}
