/**
 * Accounts: register, log in, change password. Form bodies arrive as untrusted `unknown` and are
 * checked here with zod; the route handlers only move data between HTTP and these functions.
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import { callOffWaitingGames, type GameDeps } from '../game/service.js';
import { SessionEnded } from '../web/errors.js';
import { dummyHash, hashPassword, isReservedUsername, normalizePassword, passwordProblem, USERNAME_PATTERN, verifyPassword } from './passwords.js';
import { deleteAccount as removeAccount, findAccountById, findAccountByUsername, insertAccount, recordLogin, replacePasswordHash, updatePassword, type AccountRow } from './store.js';

export interface AuthDeps {
  db: Pool;
  bcryptCost: number;
  /** Deleting an account calls off its waiting games through the game service. */
  games: GameDeps;
}

export type FieldErrors = Record<string, string>;

export type Outcome<T> = ({ ok: true } & T) | { ok: false; errors: FieldErrors };

export interface LoggedIn {
  user: { id: number; username: string };
  /** When the login happened, on the database's clock (ms). */
  loginAt: number;
}

export interface Registered extends LoggedIn {
  /** The address given at registration, to confirm. */
  email: string | undefined;
}

const USERNAME_LENGTH = 'Username must be 3 to 20 characters.';

const usernameField = z
  .string({ error: 'Enter a username.' })
  .min(1, 'Enter a username.')
  .min(3, USERNAME_LENGTH)
  .max(20, USERNAME_LENGTH)
  .regex(USERNAME_PATTERN, 'Username may contain only letters, digits, and the characters _ - .')
  .refine((name) => !isReservedUsername(name), 'That username is reserved. Choose another.');

const passwordField = (missing: string) => z.string({ error: missing }).min(1, missing);

/** An email address as people type it: trimmed, at most 254 characters (RFC 5321's path limit). */
export const emailField = z
  .string({ error: 'Enter an email address.' })
  .trim()
  .min(1, 'Enter an email address.')
  .max(254, 'That email address is too long.')
  .pipe(z.email({ error: 'Enter an email address such as name@example.com.' }));

const registerForm = z.object({
  username: usernameField,
  password: passwordField('Enter a password.'),
  confirm: z.string().optional(),
  /** Optional on the register page; the login form's Create account has no such field. */
  email: z.union([z.string().trim().length(0).transform(() => undefined), emailField]).optional(),
});

// Spaces around a username are never part of it (names cannot hold spaces): a pasted "alice " is alice.
const loginForm = z.object({ username: z.string().max(200).trim(), password: z.string().max(1000) });

const changePasswordForm = z.object({
  currentPassword: passwordField('Enter your current password.'),
  newPassword: passwordField('Enter a new password.'),
  confirm: z.string({ error: 'Confirm the new password.' }),
});

/** The confirmation matches when both are the same password once normalised (NFC and NFD alike). */
export const samePassword = (confirm: string | undefined, password: string) => confirm !== undefined && normalizePassword(confirm) === normalizePassword(password);

/** The first message for each field, in the order the checks ran. */
export function firstErrors(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? 'form');
    errors[field] ??= issue.message;
  }
  return errors;
}

/**
 * Checks a password against the account, the one way every check goes (login, change, delete,
 * email change). A hash made from the password as typed, before passwords were normalised, is
 * replaced.
 * @returns the account's hash that matched (the new one after a rehash), or undefined.
 */
export async function passwordMatches(deps: Pick<AuthDeps, 'db' | 'bcryptCost'>, account: AccountRow, password: string): Promise<string | undefined> {
  const result = await verifyPassword(password, account.passwordHash);
  if (result === 'no-match') return undefined;
  if (result === 'match') return account.passwordHash;
  const renewed = await hashPassword(password, deps.bcryptCost);
  await replacePasswordHash(deps.db, account.id, account.passwordHash, renewed);
  return renewed;
}

/** One code path for the register page and the login form's "Create account" button. */
export async function register(
  deps: AuthDeps,
  body: unknown,
  options: { requireConfirm: boolean },
): Promise<Outcome<Registered>> {
  const parsed = registerForm.safeParse(body);
  if (!parsed.success) return { ok: false, errors: firstErrors(parsed.error) };
  const { username, password, confirm, email } = parsed.data;

  const problem = passwordProblem(password, username);
  if (problem) return { ok: false, errors: { password: problem } };
  if (options.requireConfirm && !samePassword(confirm, password)) {
    return { ok: false, errors: { confirm: 'Passwords do not match.' } };
  }

  const id = await insertAccount(deps.db, username, await hashPassword(password, deps.bcryptCost));
  if (id === undefined) return { ok: false, errors: { username: 'That username is taken. Choose another.' } };
  const loginAt = (await recordLogin(deps.db, id))!;
  return { ok: true, user: { id, username }, loginAt, email };
}

export const INVALID_LOGIN = 'Invalid username or password';

/**
 * Checks a login. Every failure gets the same message, and an unknown name is compared against a
 * dummy hash so that the answer takes as long as it would for a real account.
 */
export async function logIn(deps: AuthDeps, body: unknown): Promise<Outcome<LoggedIn>> {
  const failure = { ok: false as const, errors: { form: INVALID_LOGIN } };
  const parsed = loginForm.safeParse(body);
  if (!parsed.success) return failure;
  const { username, password } = parsed.data;

  const account = await findAccountByUsername(deps.db, username);
  if (!account) {
    await verifyPassword(password, await dummyHash(deps.bcryptCost));
    return failure;
  }
  const hash = await passwordMatches(deps, account, password);
  if (!hash || !account.isActive) return failure;
  // Only if the password is still the one checked: a change or reset meanwhile wins.
  const loginAt = await recordLogin(deps.db, account.id, hash);
  if (loginAt === undefined) return failure;
  return { ok: true, user: { id: account.id, username: account.username }, loginAt };
}

/**
 * Changes the password for the session `sid`; returns the moment from which older sessions of the
 * user are void.
 * @throws SessionEnded when `sid` was ended while the password was being checked.
 */
export async function changePassword(
  deps: AuthDeps,
  userId: number,
  sid: string,
  body: unknown,
): Promise<Outcome<{ validAfter: number }>> {
  const parsed = changePasswordForm.safeParse(body);
  if (!parsed.success) return { ok: false, errors: firstErrors(parsed.error) };
  const { currentPassword, newPassword, confirm } = parsed.data;

  const account = await findAccountById(deps.db, userId);
  if (!account || !(await passwordMatches(deps, account, currentPassword))) {
    return { ok: false, errors: { currentPassword: 'Your current password is not correct.' } };
  }
  const problem = passwordProblem(newPassword, account.username);
  if (problem) return { ok: false, errors: { newPassword: problem } };
  if (!samePassword(confirm, newPassword)) return { ok: false, errors: { confirm: 'Passwords do not match.' } };

  const validAfter = await updatePassword(deps.db, userId, await hashPassword(newPassword, deps.bcryptCost), sid);
  if (validAfter === undefined) throw new SessionEnded();
  return { ok: true, validAfter };
}

const confirmPasswordForm = z.object({ password: passwordField('Enter your password to confirm.') });

/** Deletes the account after checking its password. */
export async function deleteAccount(deps: AuthDeps, userId: number, body: unknown): Promise<Outcome<object>> {
  const parsed = confirmPasswordForm.safeParse(body);
  if (!parsed.success) return { ok: false, errors: firstErrors(parsed.error) };
  const account = await findAccountById(deps.db, userId);
  if (!account || !(await passwordMatches(deps, account, parsed.data.password))) {
    return { ok: false, errors: { password: 'That password is not correct.' } };
  }
  await callOffWaitingGames(deps.games, userId, (tx) => removeAccount(tx, userId));
  return { ok: true };
}
