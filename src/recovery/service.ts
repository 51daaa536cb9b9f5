/**
 * A way back in: an email address on the account (counted once a link sent to it is opened), and
 * "Forgot your password?" by a single-use link that expires in an hour. The link's token is random
 * and only its hash is stored; it dies when used, when the password changes by any means, and when
 * the account is deactivated or deleted.
 */
import type { Pool } from 'pg';
import { z } from 'zod';
import type { AuthLimiter } from '../auth/rate-limit.js';
import { hashPassword, passwordProblem } from '../auth/passwords.js';
import { emailField, firstErrors, passwordMatches, samePassword, type FieldErrors, type Outcome } from '../auth/service.js';
import { findAccountById, recordLogin } from '../auth/store.js';
import type { Mailer } from '../mail/mailer.js';
import * as store from './store.js';

/** How long a reset link works (Django's default is 3 days; a reset is urgent, an hour is plenty). */
export const RESET_TTL_MS = 60 * 60 * 1000;
/** How long a link confirming a new address works. */
export const CONFIRM_TTL_MS = 24 * 60 * 60 * 1000;

export interface RecoveryDeps {
  db: Pool;
  bcryptCost: number;
  mailer: Mailer;
  limiter: AuthLimiter;
}

export const INVALID_LINK = 'This link has expired or has already been used. Ask for a new one.';

const forgotForm = z.object({
  login: z.string({ error: 'Enter your username or email.' }).trim().min(1, 'Enter your username or email.').max(254, 'Enter your username or email.'),
});

/** Checks the forgot form: the username or address typed, trimmed. */
export function parseForgotForm(body: unknown): Outcome<{ login: string }> {
  const parsed = forgotForm.safeParse(body);
  return parsed.success ? { ok: true, login: parsed.data.login } : { ok: false, errors: firstErrors(parsed.error) };
}

/**
 * Mails a reset link if `login` names an active account with a confirmed address (by username or
 * address, any letter case) that has not had its share of reset mails. Callers run it in the
 * background and answer at once, the same way whatever happens here, so neither the answer nor its
 * timing says whether an account matched. `origin` is where the link points.
 */
export async function sendResetLink(deps: RecoveryDeps, login: string, origin: string): Promise<void> {
  const target = await store.findRecoveryTarget(deps.db, login);
  if (!target || !(await deps.limiter.resetMailAllowed(target.id))) return;
  const token = await store.createToken(deps.db, target.id, 'reset_password', RESET_TTL_MS);
  deps.mailer.send({
    to: target.email,
    subject: 'Reset your Tic-Tac-Toe Online password',
    text: [
      `Someone (we hope you) asked to reset the password of ${target.username} on Tic-Tac-Toe Online.`,
      '',
      'To choose a new password, open this link within an hour. It works once:',
      `${origin}/reset/${token}`,
      '',
      'If you did not ask, ignore this mail: your password stays as it is.',
    ].join('\n'),
  });
}

/** The account a reset token opens, while it is valid. */
export function resetTarget(deps: RecoveryDeps, token: unknown) {
  return typeof token === 'string' && store.TOKEN_PATTERN.test(token) ? store.findToken(deps.db, token, 'reset_password') : Promise.resolve(undefined);
}

const resetForm = z.object({
  newPassword: z.string({ error: 'Enter a new password.' }).min(1, 'Enter a new password.'),
  confirm: z.string({ error: 'Confirm the new password.' }),
});

export interface PasswordReset {
  user: { id: number; username: string };
  /** Sessions of the account that logged in before this (ms) have ended. */
  validAfter: number;
  /** The fresh login of the person who reset it (ms). */
  loginAt: number;
}

/**
 * Sets a new password with a reset token, under the same rules as everywhere. The token is used
 * up in the same statement (see store.resetPassword).
 * @returns errors for the form, `{ form: INVALID_LINK }` when the token is no longer valid.
 */
export async function setNewPassword(deps: RecoveryDeps, token: unknown, body: unknown): Promise<Outcome<PasswordReset>> {
  const owner = await resetTarget(deps, token);
  if (!owner) return { ok: false, errors: { form: INVALID_LINK } };
  const parsed = resetForm.safeParse(body);
  if (!parsed.success) return { ok: false, errors: firstErrors(parsed.error) };
  const { newPassword, confirm } = parsed.data;
  const problem = passwordProblem(newPassword, owner.username);
  if (problem) return { ok: false, errors: { newPassword: problem } };
  if (!samePassword(confirm, newPassword)) return { ok: false, errors: { confirm: 'Passwords do not match.' } };
  const hash = await hashPassword(newPassword, deps.bcryptCost);
  const reset = await store.resetPassword(deps.db, token as string, hash);
  if (!reset) return { ok: false, errors: { form: INVALID_LINK } };
  const loginAt = await recordLogin(deps.db, reset.userId, hash);
  if (loginAt === undefined) return { ok: false, errors: { form: INVALID_LINK } };
  return { ok: true, user: { id: reset.userId, username: reset.username }, validAfter: reset.validAfter, loginAt };
}

/**
 * Mails a confirmation link to a new address for the account; the address counts once the link is
 * opened. Whether another account uses the address is not said here (that would tell strangers
 * which addresses have accounts); confirming it then fails.
 */
export async function requestEmailChange(deps: RecoveryDeps, user: { id: number; username: string }, email: string, origin: string): Promise<void> {
  const token = await store.createToken(deps.db, user.id, 'confirm_email', CONFIRM_TTL_MS, email);
  deps.mailer.send({
    to: email,
    subject: 'Confirm your email address for Tic-Tac-Toe Online',
    text: [
      `To use this address for the account ${user.username} on Tic-Tac-Toe Online (to get back in if you forget your password), open this link within a day:`,
      `${origin}/account/email/confirm/${token}`,
      '',
      'If you did not ask for this, ignore this mail.',
    ].join('\n'),
  });
}

const emailForm = z.object({
  email: emailField,
  password: z.string({ error: 'Enter your password to change your address.' }).min(1, 'Enter your password to change your address.'),
});

/**
 * The account page's email form: the address, and the account's password, since the address is
 * where a reset link goes (someone holding a stolen session must not be able to redirect it).
 */
export async function checkEmailForm(deps: RecoveryDeps, userId: number, body: unknown): Promise<Outcome<{ email: string }>> {
  const parsed = emailForm.safeParse(body);
  if (!parsed.success) return { ok: false, errors: firstErrors(parsed.error) as FieldErrors };
  const account = await findAccountById(deps.db, userId);
  if (!account || !(await passwordMatches(deps, account, parsed.data.password))) return { ok: false, errors: { password: 'That password is not correct.' } };
  return { ok: true, email: parsed.data.email };
}

/**
 * Uses a confirmation link: the address becomes the account's. The address it replaces is told,
 * so that a change its owner did not make does not go unnoticed.
 * @returns 'confirmed', 'taken' (another account has the address) or 'invalid'.
 */
export async function confirmEmail(deps: RecoveryDeps, token: unknown): Promise<'confirmed' | 'taken' | 'invalid'> {
  if (typeof token !== 'string' || !store.TOKEN_PATTERN.test(token)) return 'invalid';
  const { result, username, previous } = await store.confirmEmail(deps.db, token);
  if (result === 'confirmed' && previous) {
    deps.mailer.send({
      to: previous,
      subject: 'Your Tic-Tac-Toe Online address was changed',
      text: [
        `The email address of the account ${username} on Tic-Tac-Toe Online is no longer this one: a new address was confirmed.`,
        '',
        'If you did not do this, someone may be using your account: log in, change your password, and use "Log out other sessions".',
      ].join('\n'),
    });
  }
  return result;
}
