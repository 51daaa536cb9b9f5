import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const SECRET = 'a-session-secret-of-at-least-32-chars';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'ttt-config-'));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** The problems loadConfig reports for an environment, or [] when it accepts it. */
function problemsWith(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig({ DATA_DIR: dataDir, ...env });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('loadConfig', () => {
  it('has working defaults for a development machine', () => {
    const config = loadConfig({ SESSION_SECRET: SECRET });
    expect(config).toMatchObject({
      env: 'development',
      port: 3000,
      host: '0.0.0.0',
      databaseUrl: undefined,
      dataDir: path.resolve('./data'),
      sessionSecret: SECRET,
      publicOrigin: undefined,
      secureCookies: false,
      trustProxy: false,
      bcryptCost: 12,
      logLevel: 'info',
      engineBudgetMs: 200,
      engineThreads: undefined,
    });
  });

  it('reads every setting', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgresql://ttt@db.internal/ttt',
      DATA_DIR: dataDir,
      SESSION_SECRET: SECRET,
      PUBLIC_ORIGIN: 'http://ttt.example:8080/some/path',
      TRUST_PROXY: '1',
      BCRYPT_COST: '10',
      LOG_LEVEL: 'warn',
      SMTP_URL: 'smtp://mailer:secret@mail.internal:587',
      MAIL_FROM: 'Tic-Tac-Toe <games@ttt.example>',
      ENGINE_BUDGET_MS: '150',
      ENGINE_THREADS: '3',
    });
    expect(config).toEqual({
      env: 'production',
      port: 8080,
      host: '127.0.0.1',
      databaseUrl: 'postgresql://ttt@db.internal/ttt',
      dataDir,
      sessionSecret: SECRET,
      publicOrigin: 'http://ttt.example:8080',
      secureCookies: false,
      trustProxy: 1,
      bcryptCost: 10,
      logLevel: 'warn',
      smtpUrl: 'smtp://mailer:secret@mail.internal:587',
      mailFrom: 'Tic-Tac-Toe <games@ttt.example>',
      engineBudgetMs: 150,
      engineThreads: 3,
    });
  });

  it('refuses an SMTP_URL that is not an SMTP URL', () => {
    expect(() => loadConfig({ DATA_DIR: dataDir, SMTP_URL: 'http://mail.example' })).toThrow('SMTP_URL: must be an SMTP URL');
  });

  it('treats an empty variable as unset', () => {
    const config = loadConfig({ DATA_DIR: dataDir, SESSION_SECRET: SECRET, PORT: '', DATABASE_URL: '', PUBLIC_ORIGIN: '' });
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.publicOrigin).toBeUndefined();
  });

  it('resolves DATA_DIR to an absolute path', () => {
    expect(loadConfig({ DATA_DIR: 'some/where', SESSION_SECRET: SECRET }).dataDir).toBe(path.resolve('some/where'));
  });

  it.each([
    ['PORT', 'abc', 'PORT: must be a whole number from 0 to 65535'],
    ['PORT', '70000', 'PORT: must be a whole number from 0 to 65535'],
    ['PORT', '3e3', 'PORT: must be a whole number from 0 to 65535'],
    ['PORT', ' ', 'PORT: must be a whole number from 0 to 65535'],
    ['BCRYPT_COST', '3', 'BCRYPT_COST: must be a whole number from 4 to 15'],
    ['BCRYPT_COST', '12.5', 'BCRYPT_COST: must be a whole number from 4 to 15'],
    ['DATABASE_URL', 'mysql://x', 'DATABASE_URL: must start with postgres:// or postgresql://'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent'],
    ['PUBLIC_ORIGIN', 'ftp://x', 'PUBLIC_ORIGIN: must be an http(s) origin such as https://ttt.example'],
    ['PUBLIC_ORIGIN', 'ttt.example', 'PUBLIC_ORIGIN: must be an http(s) origin such as https://ttt.example'],
    ['SESSION_SECRET', 'too short', 'SESSION_SECRET: must be at least 32 characters'],
    ['NODE_ENV', 'prod', 'NODE_ENV: must be development, production or test'],
    ['TRUST_PROXY', 'face', 'TRUST_PROXY: must be false, true, a hop count'],
    ['TRUST_PROXY', 'loopback, 10.0.0.1/8/1', 'TRUST_PROXY: must be false, true, a hop count'],
  ])('refuses %s=%j with a message naming it', (name, value, message) => {
    const problems = problemsWith({ SESSION_SECRET: SECRET, [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  it('puts one line per problem in the error message', () => {
    expect(() => loadConfig({ DATA_DIR: dataDir, PORT: 'abc' })).toThrow(
      'Invalid configuration:\n  - PORT: must be a whole number from 0 to 65535',
    );
  });

  it('reports several bad values together', () => {
    const problems = problemsWith({
      NODE_ENV: 'production',
      PORT: 'abc',
      BCRYPT_COST: '3',
      DATABASE_URL: 'mysql://x',
      LOG_LEVEL: 'loud',
      PUBLIC_ORIGIN: 'ftp://x',
    });
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'PORT',
      'DATABASE_URL',
      'PUBLIC_ORIGIN',
      'BCRYPT_COST',
      'LOG_LEVEL',
      'SESSION_SECRET',
    ]);
  });

  it.each([['loopback'], ['loopback, 10.0.0.0/8'], ['127.0.0.1,::1/128'], ['10.0.0.1/255.0.0.0'], ['TRUE']])(
    'accepts TRUST_PROXY=%j',
    (value) => {
      expect(problemsWith({ SESSION_SECRET: SECRET, TRUST_PROXY: value })).toEqual([]);
    },
  );

  it('turns TRUST_PROXY into what Express expects', () => {
    const trust = (value: string) => loadConfig({ DATA_DIR: dataDir, SESSION_SECRET: SECRET, TRUST_PROXY: value }).trustProxy;
    expect(trust('false')).toBe(false);
    expect(trust('true')).toBe(true);
    expect(trust('2')).toBe(2);
    expect(trust('loopback')).toBe('loopback');
  });

  it('sets secureCookies when the public origin is https', () => {
    const config = loadConfig({ DATA_DIR: dataDir, SESSION_SECRET: SECRET, PUBLIC_ORIGIN: 'https://ttt.example/' });
    expect(config.publicOrigin).toBe('https://ttt.example');
    expect(config.secureCookies).toBe(true);
    expect(loadConfig({ DATA_DIR: dataDir, SESSION_SECRET: SECRET, PUBLIC_ORIGIN: 'http://ttt.example' }).secureCookies).toBe(false);
  });

  describe('SESSION_SECRET', () => {
    it('is required when NODE_ENV=production', () => {
      expect(problemsWith({ NODE_ENV: 'production' })).toEqual(['SESSION_SECRET: required when NODE_ENV=production']);
      expect(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: SECRET }).sessionSecret).toBe(SECRET);
    });

    it('is generated once and kept in DATA_DIR otherwise', () => {
      const first = loadConfig({ DATA_DIR: dataDir });
      expect(first.sessionSecret).toMatch(/^[0-9a-f]{64}$/);
      const file = path.join(dataDir, 'session-secret');
      expect(readFileSync(file, 'utf8')).toBe(first.sessionSecret);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(loadConfig({ DATA_DIR: dataDir }).sessionSecret).toBe(first.sessionSecret);
      expect(loadConfig({ DATA_DIR: dataDir, NODE_ENV: 'test' }).sessionSecret).toBe(first.sessionSecret);
    });

    it('creates DATA_DIR when it does not exist yet', () => {
      const nested = path.join(dataDir, 'a', 'b');
      const secret = loadConfig({ DATA_DIR: nested }).sessionSecret;
      expect(readFileSync(path.join(nested, 'session-secret'), 'utf8')).toBe(secret);
    });

    it('prefers the variable over the file, and does not write the file then', () => {
      expect(loadConfig({ DATA_DIR: dataDir, SESSION_SECRET: SECRET }).sessionSecret).toBe(SECRET);
      expect(() => statSync(path.join(dataDir, 'session-secret'))).toThrow();
    });

    it('refuses a kept secret that is too short (an empty file, say) instead of signing with it', () => {
      writeFileSync(path.join(dataDir, 'session-secret'), '\n');
      const problems = problemsWith({});
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^SESSION_SECRET: the file .*session-secret holds fewer than 32 characters/);
    });
  });
});
