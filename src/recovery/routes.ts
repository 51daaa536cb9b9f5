/** Pages for "Forgot your password?", the reset link, and the account's email address. */
import type { Request, RequestHandler, Response } from 'express';
import { startSession } from '../auth/routes.js';
import type { EventBus } from '../db/events.js';
import { HttpError } from '../web/errors.js';
import { setFlash } from '../web/locals.js';
import { saveSession } from '../web/session.js';
import { emailOf } from './store.js';
import { checkEmailForm, confirmEmail, INVALID_LINK, parseForgotForm, requestEmailChange, resetTarget, sendResetLink, setNewPassword, type RecoveryDeps } from './service.js';

declare module 'express-session' {
  interface SessionData {
    /** A reset link's token, moved out of the address bar (and the Referer, and history) on its first visit. */
    resetToken: string;
  }
}

export interface RecoveryRouteDeps extends RecoveryDeps {
  bus: EventBus;
  /** Where mailed links point. Without it, outside production, the request's own origin. */
  publicOrigin: string | undefined;
  env: 'development' | 'production' | 'test';
}

const SENT = 'If an account matches, we have sent a link to its email address. It works once, for one hour.';

/** Whether this site mails links (reset, confirm an address), and the origin they point at. */
interface MailLinks {
  enabled: boolean;
  origin(req: Request): string;
}

function mailLinks(deps: RecoveryRouteDeps): MailLinks {
  /**
   * Mail must reach people, and its links must point at this site: whenever mail really leaves,
   * only at the configured PUBLIC_ORIGIN (a Host header is the sender's to choose, and a reset link
   * to their host would hand them the token). The request's own origin serves only for mail that
   * is written to the developer's log.
   */
  const enabled = deps.mailer.enabled && (deps.publicOrigin !== undefined || !deps.mailer.delivers);
  const origin = (req: Request) => deps.publicOrigin ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
  return { enabled, origin };
}

/** "Forgot your password?" and the reset link it mails. */
function resetRoutes(deps: RecoveryRouteDeps, { enabled, origin }: MailLinks) {
  const requireEnabled: RequestHandler = (_req, _res, next) =>
    next(enabled ? undefined : new HttpError(404, 'Password reset by email is not available on this site. Ask its administrator for help.'));

  const renderForgot = (res: Response, status: number, errors: Record<string, string>, login: string, sent = false) =>
    res.status(status).render('forgot', { title: 'Forgot your password?', errors, login, sent: sent ? SENT : null });

  const showForgot: RequestHandler = (_req, res) => renderForgot(res, 200, {}, '');

  const postForgot: RequestHandler = async (req, res) => {
    const retryAfter = await deps.limiter.checkReset(req.ip ?? '');
    if (retryAfter) throw new HttpError(429, 'Too many attempts. Try again in a few minutes.', retryAfter);
    const form = parseForgotForm(req.body);
    if (!form.ok) return renderForgot(res, 422, form.errors, '');
    // In the background: the answer and its timing are the same whether or not an account matched.
    sendResetLink(deps, form.login, origin(req)).catch((err: unknown) => req.log.error({ err }, 'could not send a reset link'));
    renderForgot(res, 200, {}, '', true);
  };

  const invalidLink = (res: Response) => res.status(400).render('reset', { title: 'Set a new password', errors: { form: INVALID_LINK }, invalid: true, username: '' });

  /** The link from the mail: keeps its token in the session and moves to an address without it. */
  const openResetLink: RequestHandler = async (req, res) => {
    const token = req.params.token;
    if (!(await resetTarget(deps, token))) return invalidLink(res);
    req.session.resetToken = token as string;
    await saveSession(req);
    res.redirect(303, '/reset');
  };

  const showReset: RequestHandler = async (req, res) => {
    const owner = await resetTarget(deps, req.session.resetToken);
    if (!owner) return invalidLink(res);
    res.render('reset', { title: 'Set a new password', errors: {}, invalid: false, username: owner.username });
  };

  const postReset: RequestHandler = async (req, res) => {
    const outcome = await setNewPassword(deps, req.session.resetToken, req.body);
    if (!outcome.ok) {
      if (outcome.errors.form === INVALID_LINK) return invalidLink(res);
      const owner = await resetTarget(deps, req.session.resetToken);
      return res.status(422).render('reset', { title: 'Set a new password', errors: outcome.errors, invalid: false, username: owner?.username ?? '' });
    }
    // Every session of the account ends, on every instance, sockets too; this browser starts afresh.
    await deps.bus.publish({ kind: 'user', user: outcome.user.id, validAfter: outcome.validAfter });
    await startSession(req, deps.bus, outcome);
    setFlash(req, 'status', 'Your new password is set, and you are signed in. Every other session of your account has been logged out.');
    await saveSession(req);
    res.redirect(303, '/');
  };

  return { requireEnabled, showForgot, postForgot, openResetLink, showReset, postReset };
}

/** The account's email address: adding one, the link that confirms it, and showing it. */
function emailRoutes(deps: RecoveryRouteDeps, { enabled, origin }: MailLinks) {
  const postEmail: RequestHandler = async (req, res) => {
    const user = req.user!;
    const retryAfter = await deps.limiter.checkEmailChange(user.id);
    if (retryAfter) throw new HttpError(429, 'Too many attempts. Try again later.', retryAfter);
    const parsed = await checkEmailForm(deps, user.id, req.body);
    if (!parsed.ok) {
      setFlash(req, 'alert', Object.values(parsed.errors)[0] ?? 'Enter an email address.');
      await saveSession(req);
      return res.redirect(303, '/account#email-heading');
    }
    await requestEmailChange(deps, user, parsed.email, origin(req));
    setFlash(req, 'status', `We have sent a link to ${parsed.email}. The address counts once you open it (within a day).`);
    await saveSession(req);
    res.redirect(303, '/account');
  };

  /**
   * The link from the mail shows a button; only pressing it (a POST) confirms. Mail scanners and
   * link previews open links with GET, and must not confirm an address onto someone's account.
   */
  const showConfirmLink: RequestHandler = (req, res) => {
    res.render('confirm-email', { title: 'Confirm your email address', token: req.params.token });
  };

  const postConfirmLink: RequestHandler = async (req, res) => {
    const result = await confirmEmail(deps, req.body?.token);
    if (result === 'invalid') throw new HttpError(400, 'This link has expired or has already been used. Add your address again on your account page.');
    if (result === 'taken') throw new HttpError(409, 'That address is already confirmed for another account.');
    res.render('message', { title: 'Email confirmed', text: 'Your email address is confirmed. If you forget your password, we can send a link there.', link: { href: '/account', text: 'Your account' } });
  };

  /** The account page shows the confirmed address, and the email form only when mail works. */
  const accountLocals: RequestHandler = async (req, res, next) => {
    if (req.user) {
      res.locals.email = await emailOf(deps.db, req.user.id);
      res.locals.canMail = enabled;
    }
    next();
  };

  /** After registering with an address: the link that confirms it. */
  const confirmAddress = async (req: Request, user: { id: number; username: string }, email: string) => {
    if (enabled) await requestEmailChange(deps, user, email, origin(req));
  };

  return { postEmail, showConfirmLink, postConfirmLink, accountLocals, confirmAddress };
}

/** Every recovery and email page, by the names src/app.ts mounts them under; `enabled` says whether mail works. */
export function recoveryRoutes(deps: RecoveryRouteDeps) {
  const links = mailLinks(deps);
  return { enabled: links.enabled, ...resetRoutes(deps, links), ...emailRoutes(deps, links) };
}
