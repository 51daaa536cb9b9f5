import { describe, expect, it } from 'vitest';
import { dictionary } from '@zxcvbn-ts/language-common';
import {
  dummyHash,
  hashPassword,
  isCommonPassword,
  isReservedUsername,
  passwordProblem,
  PASSWORD_MAX_BYTES,
  USERNAME_PATTERN,
  normalizePassword,
  verifyPassword,
} from '../../src/auth/passwords.js';
import bcrypt from 'bcrypt';

const TOO_LONG = 'Password must be at most 72 bytes';

describe('password rules', () => {
  it('accepts a good password', () => {
    expect(passwordProblem('correct horse battery', 'alice')).toBeNull();
  });

  it('needs at least 8 characters', () => {
    expect(passwordProblem('', 'alice')).toBe('Password must be at least 8 characters.');
    expect(passwordProblem('Zq7#kL2', 'alice')).toBe('Password must be at least 8 characters.');
    expect(passwordProblem('Zq7#kL2!', 'alice')).toBeNull();
  });

  it('counts characters, not bytes, for the minimum', () => {
    // Four emoji are 16 bytes but only four characters.
    expect(passwordProblem('🐢🦊🐙🦉', 'alice')).toBe('Password must be at least 8 characters.');
    expect(passwordProblem('ñandú7é', 'alice')).toBe('Password must be at least 8 characters.');
    expect(passwordProblem('🐢🦊🐙🦉🐢🦊🐙🦉', 'alice')).toBeNull();
  });

  it('accepts exactly 72 bytes and refuses 73, never truncating', () => {
    expect(PASSWORD_MAX_BYTES).toBe(72);
    const base = 'Zq7#kL2!'.repeat(9); // 72 ASCII bytes
    expect(Buffer.byteLength(base)).toBe(72);
    expect(passwordProblem(base, 'alice')).toBeNull();
    expect(passwordProblem(`${base}x`, 'alice')).toContain(TOO_LONG);
  });

  it('counts multibyte characters by their UTF-8 bytes', () => {
    // 'é' is 2 bytes, '€' 3, '🐢' 4.
    const accents = 'é'.repeat(36); // 36 characters, 72 bytes
    expect(Buffer.byteLength(accents)).toBe(72);
    expect(passwordProblem(accents, 'alice')).toBeNull();
    expect(passwordProblem(`${accents}x`, 'alice')).toContain(TOO_LONG); // 37 characters, 73 bytes

    const euros = '€'.repeat(24); // 72 bytes
    expect(passwordProblem(euros, 'alice')).toBeNull();
    expect(passwordProblem(`${euros}é`, 'alice')).toContain(TOO_LONG); // 74 bytes

    const turtles = '🐢'.repeat(18); // 18 characters, 72 bytes
    expect(passwordProblem(turtles, 'alice')).toBeNull();
    expect(passwordProblem(`${turtles}a`, 'alice')).toContain(TOO_LONG);
    // A 40-character password can already be too long.
    expect(passwordProblem('🐢'.repeat(40), 'alice')).toBe(
      'Password must be at most 72 bytes (accented letters and emoji count as 2 to 4).',
    );
  });

  it('refuses a password that contains the username, in any letter case', () => {
    expect(passwordProblem('my-Alice-is-great', 'alice')).toBe('Password must not contain your username.');
    expect(passwordProblem('ALICEALICE99', 'Alice')).toBe('Password must not contain your username.');
    expect(passwordProblem('al1ce wonderland', 'alice')).toBeNull();
  });

  it('refuses common passwords whatever their letter case', () => {
    for (const common of ['password', 'password123', 'iloveyou', 'qwertyuiop', 'PASSWORD1', 'Sunshine']) {
      expect(isCommonPassword(common), common).toBe(true);
    }
    expect(passwordProblem('iloveyou', 'alice')).toBe('That password is too common. Choose one that is harder to guess.');
    expect(isCommonPassword('correct horse battery')).toBe(false);
  });

  it('uses a common-password list of at least 10,000 entries', () => {
    const list = dictionary['passwords-common'];
    expect(list.length).toBeGreaterThanOrEqual(10_000);
    // Every entry of the list is refused, not only the first few.
    const sample = list.filter((_, i) => i % 997 === 0).map(String);
    expect(sample.length).toBeGreaterThan(10);
    for (const entry of sample) expect(isCommonPassword(entry), entry).toBe(true);
    expect(isCommonPassword(String(list.at(-1)))).toBe(true);
  });
});

describe('usernames', () => {
  it.each(['admin', 'Admin', 'ADMINISTRATOR', 'root', 'computer', 'Computer_X', 'computer2', 'ai', 'AI', 'bot', 'guest', 'login'])(
    'reserves %j',
    (name) => {
      expect(isReservedUsername(name)).toBe(true);
    },
  );

  it.each(['alice', 'aidan', 'admiral', 'bottle', 'my.computer', 'robot_wars'])('allows %j', (name) => {
    expect(isReservedUsername(name)).toBe(false);
  });

  it('allows 3 to 20 letters, digits, _ - . only', () => {
    for (const ok of ['abc', 'a'.repeat(20), 'Jo_Do-e.1']) expect(USERNAME_PATTERN.test(ok), ok).toBe(true);
    for (const bad of ['ab', 'a'.repeat(21), 'with space', '<script>', 'émile', 'a/b', 'x\n']) {
      expect(USERNAME_PATTERN.test(bad), bad).toBe(false);
    }
  });
});

describe('hashing', () => {
  it('hashes with the given cost and verifies only the right password', async () => {
    const hash = await hashPassword('correct horse battery', 4);
    expect(hash).toMatch(/^\$2b\$04\$/);
    expect(await verifyPassword('correct horse battery', hash)).toBe('match');
    expect(await verifyPassword('correct horse batterY', hash)).toBe('no-match');
  });

  it('refuses at every check what could not have been set: more than 72 bytes never matches', async () => {
    const exactly72 = 'a'.repeat(60) + 'correct hors';
    expect(Buffer.byteLength(exactly72)).toBe(72);
    expect(passwordProblem(exactly72, 'someone')).toBeNull();
    const hash = await hashPassword(exactly72, 4);
    expect(await verifyPassword(exactly72, hash)).toBe('match');
    // bcrypt alone would say yes: it reads only the first 72 bytes.
    expect(await bcrypt.compare(`${exactly72}X`, hash)).toBe(true);
    expect(await verifyPassword(`${exactly72}X`, hash)).toBe('no-match');
    expect(await verifyPassword(`${exactly72}é`, hash)).toBe('no-match');
  });

  it('treats composed and decomposed Unicode as one password, and non-ASCII spaces as spaces (RFC 8265)', async () => {
    const composed = 'Crème-Brûlée-à-la-française'.normalize('NFC');
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    expect(normalizePassword(decomposed)).toBe(composed);
    expect(normalizePassword('two\u00a0words\u3000here')).toBe('two words here');
    const hash = await hashPassword(composed, 4);
    expect(await verifyPassword(decomposed, hash)).toBe('match');
    expect(await verifyPassword(composed, await hashPassword(decomposed, 4))).toBe('match');
  });

  it('counts the length rules on the normalised text', () => {
    // 36 × "é" decomposed is 108 bytes as typed, 72 once composed: it fits.
    const accents = 'e\u0301'.repeat(36);
    expect(Buffer.byteLength(accents)).toBe(108);
    expect(passwordProblem(accents, 'someone')).toBeNull();
  });

  it('keeps hashes made from the password as typed (before normalising) working, and says to rehash', async () => {
    const typed = 'Crème-Brûlée-à-la-française'.normalize('NFD');
    const oldHash = await bcrypt.hash(typed, 4);
    expect(await verifyPassword(typed, oldHash)).toBe('legacy-match');
    expect(await verifyPassword('Crème-Brûlée-à-la-françaisE', oldHash)).toBe('no-match');
  });

  it('keeps one dummy hash per cost, for unknown users', async () => {
    const first = await dummyHash(4);
    expect(first).toMatch(/^\$2b\$04\$/);
    expect(await dummyHash(4)).toBe(first);
    expect(await dummyHash(5)).toMatch(/^\$2b\$05\$/);
  });
});
