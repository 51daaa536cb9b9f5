/**
 * Login and registration limits, counted in PostgreSQL (rate-limiter-flexible's Postgres store) so
 * that every instance shares the same counters. nginx adds a coarser per-IP limit in front.
 */
import type { Pool, QueryConfig } from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';

export interface LimitRule {
  points: number;
  seconds: number;
}

export interface AuthLimitRules {
  /** Every login attempt from one address. */
  loginPerIp: LimitRule;
  /** Failed logins to one account from anywhere: stops password guessing spread over many IPs. */
  loginFailuresPerUsername: LimitRule;
  /** Every registration attempt (including "Create account" on the login form) from one address. */
  registerPerIp: LimitRule;
  /** Registration attempts for one name. */
  registerPerUsername: LimitRule;
}

export const DEFAULT_AUTH_LIMITS: AuthLimitRules = {
  loginPerIp: { points: 30, seconds: 15 * 60 },
  loginFailuresPerUsername: { points: 10, seconds: 15 * 60 },
  registerPerIp: { points: 10, seconds: 60 * 60 },
  registerPerUsername: { points: 5, seconds: 60 * 60 },
};

/** Seconds until the client may try again, or null when the attempt is allowed. */
export type RetryAfter = number | null;

export interface AuthLimiter {
  /** Counts a login attempt against its address and says whether it, or the account, is blocked. */
  checkLogin(ip: string, username: string): Promise<RetryAfter>;
  loginFailed(username: string): Promise<void>;
  loginSucceeded(username: string): Promise<void>;
  checkRegister(ip: string, username: string): Promise<RetryAfter>;
}

/**
 * The store names its prepared statements; PGlite multiplexes every pool connection onto one
 * session, where a second PREPARE of the same name fails. Unnamed statements work in both modes.
 */
function withoutStatementNames(pool: Pool) {
  return { query: ({ text, values }: QueryConfig) => pool.query({ text, values }) };
}

/** Keys are bounded and case-insensitive, so "Alice" and "alice" share one counter. */
const usernameKey = (username: string) => username.toLowerCase().slice(0, 64);

function retryAfterSeconds(err: unknown): number {
  if (err instanceof RateLimiterRes) return Math.max(1, Math.ceil(err.msBeforeNext / 1000));
  throw err;
}

export function createAuthLimiter(pool: Pool, rules: AuthLimitRules = DEFAULT_AUTH_LIMITS): AuthLimiter {
  const storeClient = withoutStatementNames(pool);
  const limiter = (keyPrefix: string, rule: LimitRule) =>
    new RateLimiterPostgres({
      storeClient,
      storeType: 'pool',
      tableName: 'rate_limits',
      tableCreated: true,
      keyPrefix,
      points: rule.points,
      duration: rule.seconds,
    });
  const loginIp = limiter('login_ip', rules.loginPerIp);
  const loginUser = limiter('login_user', rules.loginFailuresPerUsername);
  const registerIp = limiter('register_ip', rules.registerPerIp);
  const registerUser = limiter('register_user', rules.registerPerUsername);

  async function consume(rateLimiter: RateLimiterPostgres, key: string): Promise<RetryAfter> {
    try {
      await rateLimiter.consume(key);
      return null;
    } catch (err) {
      return retryAfterSeconds(err);
    }
  }

  return {
    async checkLogin(ip, username) {
      const ipBlocked = await consume(loginIp, ip);
      if (ipBlocked) return ipBlocked;
      const failures = await loginUser.get(usernameKey(username));
      if (failures && failures.consumedPoints >= rules.loginFailuresPerUsername.points) {
        return retryAfterSeconds(failures);
      }
      return null;
    },
    async loginFailed(username) {
      await consume(loginUser, usernameKey(username));
    },
    async loginSucceeded(username) {
      await loginUser.delete(usernameKey(username));
    },
    async checkRegister(ip, username) {
      return (await consume(registerIp, ip)) ?? (await consume(registerUser, usernameKey(username)));
    },
  };
}
