/**
 * The end of the middleware chain: a 404 page, then one error handler. Client errors (4xx) show
 * their message; server errors are logged with their details and shown as a plain apology.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { isDatabaseUnavailable } from '../db/database.js';
import { RuleError } from '../game/variants/types.js';
import { GameError, type GameErrorCode } from '../game/errors.js';

/** An error whose message is meant for the person who made the request. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Sent as Retry-After, for 429 and 503. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * The request's own session ended while it ran (logged out or revoked in another tab): nothing was
 * changed. Answered like a stale form after logout (see staleForms): the login page, then back.
 */
export class SessionEnded extends HttpError {
  constructor() {
    super(401, 'Your session has ended, so nothing was done. Log in to continue.');
    this.name = 'SessionEnded';
  }
}

/** The HTTP status of every refusal the game service makes: the one map from codes to statuses. */
const REFUSAL_STATUS: Record<GameErrorCode, number> = {
  bad_request: 400,
  out_of_range: 400,
  bad_board: 400,
  not_a_player: 403,
  no_hint: 403,
  not_found: 404,
  occupied: 409,
  wrong_board: 409,
  game_over: 409,
  not_your_turn: 409,
  not_started: 409,
  stale: 409,
  full: 409,
  cannot_claim: 409,
  cannot_rematch: 409,
  expired: 410,
  cancelled: 410,
  too_many: 429,
  busy: 503,
};

/** A refusal by the game (GameError or RuleError) and its HTTP status; undefined for any other error. */
export function refusal(err: unknown): { status: number; message: string } | undefined {
  if (err instanceof GameError || err instanceof RuleError) return { status: REFUSAL_STATUS[err.code], message: err.message };
  return undefined;
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Please log in',
  403: 'Not allowed',
  404: 'Page not found',
  405: 'Not allowed',
  409: 'Not possible now',
  410: 'Gone',
  413: 'Too large',
  415: 'Unsupported request',
  429: 'Too many attempts',
  503: 'Temporarily unavailable',
};

/** Messages for errors raised by Express's body parsers, which are written for developers. */
const BODY_PARSER_MESSAGES: Record<string, string> = {
  'entity.too.large': 'That request is too large. Forms on this site need only a few lines of text.',
  'entity.parse.failed': 'The request could not be read.',
  'encoding.unsupported': 'The request uses an encoding this site does not accept.',
  'charset.unsupported': 'The request uses a character set this site does not accept.',
  'parameters.too.many': 'The request has too many fields.',
};

export function renderError(res: Response, status: number, message: string) {
  res.status(status);
  if (res.req.accepts(['html', 'json']) === 'json') {
    res.json({ error: message });
    return;
  }
  res.render('error', { title: TITLES[status] ?? 'Something went wrong', status, message });
}

export const notFound: RequestHandler = (_req, res) => {
  renderError(res, 404, 'There is nothing at this address. Check the link, or start again from the home page.');
};

interface ErrorLike {
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  type?: unknown;
  message?: unknown;
}

function statusOf(err: ErrorLike): number {
  const status = Number(err.status ?? err.statusCode);
  return Number.isInteger(status) && status >= 400 && status < 600 ? status : 500;
}

export const errorHandler: ErrorRequestHandler = (err: ErrorLike, req, res, next) => {
  if (res.headersSent) {
    next(err);
    return;
  }
  if (isDatabaseUnavailable(err)) {
    req.log?.warn({ err }, 'database unavailable');
    res.set('Retry-After', '5');
    renderError(res, 503, 'We cannot reach our database right now. Nothing you saved is lost: please try again in a few seconds.');
    return;
  }
  const refused = refusal(err);
  if (refused) {
    renderError(res, refused.status, refused.message);
    return;
  }
  const status = statusOf(err);
  if (err instanceof HttpError) {
    if (err.retryAfterSeconds !== undefined) res.set('Retry-After', String(err.retryAfterSeconds));
    renderError(res, status, err.message);
    return;
  }
  if (status >= 500) {
    req.log?.error({ err }, 'request failed');
    renderError(res, status, 'Something went wrong on our side. Please try again in a moment.');
    return;
  }
  const parserMessage = typeof err.type === 'string' ? BODY_PARSER_MESSAGES[err.type] : undefined;
  const ownMessage = err instanceof HttpError || err.expose === true ? String(err.message) : undefined;
  renderError(res, status, parserMessage ?? ownMessage ?? TITLES[status] ?? 'That request could not be handled.');
};
