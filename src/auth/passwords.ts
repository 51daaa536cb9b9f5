/**
 * Hashing and the rules for usernames and passwords. bcrypt's async functions run on libuv's
 * thread pool, so a cost-12 hash (about a quarter of a second) never blocks other requests.
 */
import { availableParallelism } from 'node:os';
import bcrypt from 'bcrypt';
import { HttpError } from '../web/errors.js';
import { dictionary } from '@zxcvbn-ts/language-common';

export const PASSWORD_MIN_CHARACTERS = 8;
/** bcrypt ignores everything after 72 bytes; refusing longer passwords beats truncating them. */
export const PASSWORD_MAX_BYTES = 72;

export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,20}$/;

/** Names people could mistake for the site or the computer player (which plays under its own name). */
const RESERVED_USERNAMES = new Set([
  'admin', 'administrator', 'root', 'system', 'sysop', 'staff', 'support', 'moderator', 'mod',
  'computer', 'ai', 'bot', 'robot', 'cpu', 'engine', 'server', 'official', 'anonymous', 'guest',
  'deleted', 'deleted-user', 'deleted_user', 'nobody', 'null', 'undefined', 'me', 'you',
  'login', 'logout', 'register', 'account', 'settings', 'lobby', 'games', 'users', 'leaderboard',
]);

/** Also every name starting with "computer" (its players) or "deleted" (deleted accounts' rows). */
export function isReservedUsername(username: string): boolean {
  const name = username.toLowerCase();
  return RESERVED_USERNAMES.has(name) || name.startsWith('computer') || name.startsWith('deleted');
}

let commonPasswords: Set<string> | undefined;

/** About 49,000 leaked passwords from zxcvbn-ts's maintained dictionary, loaded on first use. */
export function isCommonPassword(password: string): boolean {
  commonPasswords ??= new Set(dictionary['passwords-common'].map((p) => String(p).toLowerCase()));
  return commonPasswords.has(password.toLowerCase());
}

/** Space separators other than U+0020 (no-break, ideographic, thin spaces…), per RFC 8265 §4.2.1. */
const NON_ASCII_SPACES = /(?! )\p{Zs}/gu;

/**
 * The form a password is hashed and checked in: RFC 8265's OpaqueString profile (the IETF's rules
 * for passwords): non-ASCII spaces become U+0020, then Unicode NFC. So "Crème" typed composed
 * (NFC) or decomposed (NFD, as some keyboards and systems send it) is the same password. NFC
 * rather than NIST SP 800-63B's NFKC: NFKC also folds compatibility characters ("ﬁ" into "fi",
 * "²" into "2", full-width letters), which merges passwords people typed as different ones.
 */
export function normalizePassword(password: string): string {
  return password.replace(NON_ASCII_SPACES, ' ').normalize('NFC');
}

/** Whether bcrypt reads all of it: at most 72 bytes in its normalised form. */
function fitsBcrypt(normalized: string): boolean {
  return Buffer.byteLength(normalized, 'utf8') <= PASSWORD_MAX_BYTES;
}

/** The first rule a new password breaks, as a sentence for the form, or null when it is fine. */
export function passwordProblem(raw: string, username: string): string | null {
  const password = normalizePassword(raw);
  // The minimum counts characters, as its message says (four emoji are 16 bytes but 4 characters);
  // the maximum counts bytes, because that is where bcrypt stops reading.
  if ([...password].length < PASSWORD_MIN_CHARACTERS) return `Password must be at least ${PASSWORD_MIN_CHARACTERS} characters.`;
  if (!fitsBcrypt(password)) {
    return `Password must be at most ${PASSWORD_MAX_BYTES} bytes (accented letters and emoji count as 2 to 4).`;
  }
  if (username.length > 0 && password.toLowerCase().includes(username.toLowerCase())) {
    return 'Password must not contain your username.';
  }
  if (isCommonPassword(password)) return 'That password is too common. Choose one that is harder to guess.';
  return null;
}

/**
 * bcrypt at cost 12 keeps a core busy for about a quarter of a second. A storm of login attempts
 * that got past the rate limits (from many addresses) would take every core and stall every page,
 * so hashing takes turns: a few at a time with a short queue, and beyond that the attempt is
 * refused as busy (503, retry in a few seconds) instead of waiting for minutes.
 */
const HASHING_SLOTS = Math.max(1, availableParallelism() - 1);
const HASHING_QUEUE = 16;
let hashing = 0;
const waitingToHash: (() => void)[] = [];

async function withHashingSlot<T>(work: () => Promise<T>): Promise<T> {
  if (hashing < HASHING_SLOTS) hashing += 1;
  else if (waitingToHash.length >= HASHING_QUEUE) {
    throw new HttpError(503, 'Too many people are signing in right now. Please try again in a few seconds.', 5);
  } else await new Promise<void>((resolve) => waitingToHash.push(resolve));
  try {
    return await work();
  } finally {
    // Hand the slot straight to the next in line, or give it back.
    const next = waitingToHash.shift();
    if (next) next();
    else hashing -= 1;
  }
}

/** bcrypt hash of the normalised password (see normalizePassword); check passwordProblem first. */
export function hashPassword(password: string, cost: number): Promise<string> {
  return withHashingSlot(() => bcrypt.hash(normalizePassword(password), cost));
}

/**
 * 'match', 'no-match', or 'legacy-match': the password matched only as typed, not normalised (a
 * hash made before passwords were normalised, from decomposed input): the caller should store a
 * new hash. Every check refuses what could not have been set: over 72 bytes normalised, bcrypt
 * would compare only the first 72, so a longer input never matches.
 */
export async function verifyPassword(password: string, hash: string): Promise<'match' | 'legacy-match' | 'no-match'> {
  const normalized = normalizePassword(password);
  if (!fitsBcrypt(normalized)) return 'no-match';
  if (await withHashingSlot(() => bcrypt.compare(normalized, hash))) return 'match';
  if (normalized === password || !fitsBcrypt(password)) return 'no-match';
  return (await withHashingSlot(() => bcrypt.compare(password, hash))) ? 'legacy-match' : 'no-match';
}

const dummyHashes = new Map<number, Promise<string>>();

/**
 * A hash to compare against when the username does not exist, so that a failed login takes the
 * same time whether or not the account is there.
 */
export function dummyHash(cost: number): Promise<string> {
  let hash = dummyHashes.get(cost);
  if (!hash) {
    hash = bcrypt.hash('not a real password, only here to spend time', cost);
    dummyHashes.set(cost, hash);
  }
  return hash;
}
