/**
 * Login and registration limits, counted in PostgreSQL (rate-limiter-flexible's Postgres store) so
 * that every instance shares the same counters. nginx adds a coarser per-IP limit in front.
 */
import type { Pool } from 'pg';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';

export interface LimitRule {
  points: number;
  seconds: number;
}

export interface AuthLimitRules {
  /**
   * Failed logins from one address (password spraying across accounts). Successful ones are given
   * back, so a school or office behind one address can log in all day.
   */
  loginFailuresPerIp: LimitRule;
  /**
   * Failed logins to one account from browsers it was never used in: stops password guessing spread
   * over many IPs, without locking the owner out of their own browsers (see device.ts).
   */
  loginFailuresPerUsername: LimitRule;
  /** Failed logins from one browser that holds a device cookie for the account. */
  loginFailuresPerDevice: LimitRule;
  /**
   * Accounts made from one address (the register page and the login form's "Create account").
   * Counted before the password is hashed; a refused attempt gives its point back.
   */
  registerPerIp: LimitRule;
  /** Refused registrations (a taken or invalid name, a weak password) from one address: looser. */
  registerRefusedPerIp: LimitRule;
  /** Registration attempts for one name. */
  registerPerUsername: LimitRule;
  /** "Forgot your password?" requests from one address. */
  resetPerIp: LimitRule;
  /** Reset mails to one account: beyond this, requests get the same answer and no mail. */
  resetPerAccount: LimitRule;
  /** Confirmation mails for a new address, per account. */
  emailPerAccount: LimitRule;
}

export const DEFAULT_AUTH_LIMITS: AuthLimitRules = {
  loginFailuresPerIp: { points: 30, seconds: 15 * 60 },
  loginFailuresPerUsername: { points: 10, seconds: 15 * 60 },
  loginFailuresPerDevice: { points: 10, seconds: 15 * 60 },
  // A class of 30 behind one address can sign up in one lesson.
  registerPerIp: { points: 30, seconds: 60 * 60 },
  // The same class, typing names that are taken or passwords that are too short.
  registerRefusedPerIp: { points: 100, seconds: 60 * 60 },
  registerPerUsername: { points: 5, seconds: 60 * 60 },
  resetPerIp: { points: 10, seconds: 15 * 60 },
  resetPerAccount: { points: 3, seconds: 60 * 60 },
  emailPerAccount: { points: 5, seconds: 60 * 60 },
};

/** Seconds until the client may try again, or null when the attempt is allowed. */
export type RetryAfter = number | null;

/**
 * Who a login attempt's failures count against: the browser's device id when it holds a device
 * cookie for the account, otherwise the account itself.
 */
export interface LoginAttempt {
  ip: string;
  username: string;
  device: string | null;
}

export interface AuthLimiter {
  /** Counts a login attempt against its address and says whether it, or its account or device, is blocked. */
  checkLogin(attempt: LoginAttempt): Promise<RetryAfter>;
  loginFailed(attempt: LoginAttempt): Promise<void>;
  loginSucceeded(attempt: LoginAttempt): Promise<void>;
  checkRegister(ip: string, username: string): Promise<RetryAfter>;
  /** A registration was refused: it counts as a refused attempt, not as an account made. */
  registerRefused(ip: string): Promise<void>;
  /** A registration failed on our side (busy, an error): it made nothing and counts for nothing. */
  registerAborted(ip: string): Promise<void>;
  /** Counts a reset request from an address; says whether it is blocked. */
  checkReset(ip: string): Promise<RetryAfter>;
  /** Counts a reset mail to an account; false when it has had its share (send nothing). */
  resetMailAllowed(userId: number): Promise<boolean>;
  /** Counts a confirmation mail for an account's new address; says whether it is blocked. */
  checkEmailChange(userId: number): Promise<RetryAfter>;
}

/** Keys are bounded and case-insensitive, so "Alice" and "alice" share one counter. */
const usernameKey = (username: string) => username.toLowerCase().slice(0, 64);

function retryAfterSeconds(err: unknown): number {
  if (err instanceof RateLimiterRes) return Math.max(1, Math.ceil(err.msBeforeNext / 1000));
  throw err;
}

/** One counter per rule, all in the shared rate_limits table. */
function postgresLimiters(pool: Pool, rules: AuthLimitRules) {
  const limiter = (keyPrefix: string, rule: LimitRule) =>
    new RateLimiterPostgres({
      storeClient: pool,
      storeType: 'pool',
      tableName: 'rate_limits',
      tableCreated: true,
      keyPrefix,
      points: rule.points,
      duration: rule.seconds,
    });
  return {
    loginIp: limiter('login_ip', rules.loginFailuresPerIp),
    loginUser: limiter('login_user', rules.loginFailuresPerUsername),
    loginDevice: limiter('login_device', rules.loginFailuresPerDevice),
    registerIp: limiter('register_ip', rules.registerPerIp),
    registerRefusedIp: limiter('register_refused_ip', rules.registerRefusedPerIp),
    registerUser: limiter('register_user', rules.registerPerUsername),
    resetIp: limiter('reset_ip', rules.resetPerIp),
    resetAccount: limiter('reset_account', rules.resetPerAccount),
    emailAccount: limiter('email_account', rules.emailPerAccount),
  };
}

/** Takes a point from the key's counter; when none is left, the seconds until one is. */
async function consume(rateLimiter: RateLimiterPostgres, key: string): Promise<RetryAfter> {
  try {
    await rateLimiter.consume(key);
    return null;
  } catch (err) {
    return retryAfterSeconds(err);
  }
}

export function createAuthLimiter(pool: Pool, rules: AuthLimitRules = DEFAULT_AUTH_LIMITS): AuthLimiter {
  const { loginIp, loginUser, loginDevice, registerIp, registerRefusedIp, registerUser, resetIp, resetAccount, emailAccount } = postgresLimiters(pool, rules);

  const failureCounter = ({ username, device }: LoginAttempt) =>
    device
      ? { limiter: loginDevice, key: device, rule: rules.loginFailuresPerDevice }
      : { limiter: loginUser, key: usernameKey(username), rule: rules.loginFailuresPerUsername };

  return {
    async checkLogin(attempt) {
      // Counted before the password is checked, so a burst from one address cannot run past the
      // limit while its bcrypt compares are in flight; a success gives its point back.
      const ipBlocked = await consume(loginIp, attempt.ip);
      if (ipBlocked) return ipBlocked;
      const { limiter: failures, key, rule } = failureCounter(attempt);
      const counted = await failures.get(key);
      return counted && counted.consumedPoints >= rule.points ? retryAfterSeconds(counted) : null;
    },
    async loginFailed(attempt) {
      if (!attempt.username) return;
      const { limiter: failures, key } = failureCounter(attempt);
      await consume(failures, key);
    },
    async loginSucceeded(attempt) {
      // The account's own counter is cleared too: its owner is back. The address's is not: an
      // attacker with one account of their own could otherwise reset it between guesses.
      await Promise.all([
        loginIp.reward(attempt.ip, 1),
        loginUser.delete(usernameKey(attempt.username)),
        attempt.device ? loginDevice.delete(attempt.device) : null,
      ]);
    },
    async checkRegister(ip, username) {
      const refused = await registerRefusedIp.get(ip);
      if (refused && refused.consumedPoints >= rules.registerRefusedPerIp.points) return retryAfterSeconds(refused);
      const blocked = await consume(registerIp, ip);
      if (blocked) return blocked;
      const nameBlocked = await consume(registerUser, usernameKey(username));
      // Refused before anything was made: the address's point goes back.
      if (nameBlocked) await registerIp.reward(ip, 1);
      return nameBlocked;
    },
    async registerAborted(ip) {
      await registerIp.reward(ip, 1);
    },
    async registerRefused(ip) {
      await registerIp.reward(ip, 1);
      await consume(registerRefusedIp, ip);
    },
    checkReset: (ip) => consume(resetIp, ip),
    resetMailAllowed: async (userId) => (await consume(resetAccount, String(userId))) === null,
    checkEmailChange: (userId) => consume(emailAccount, String(userId)),
  };
}
