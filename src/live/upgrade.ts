/**
 * The WebSocket upgrade check: this site's Origin, then who the socket acts for (the session
 * cookie, read by the same express-session middleware as the pages), and, for signed-out
 * visitors, a place within the watcher limits.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { SessionData } from 'express-session';
import { validAccount } from '../auth/middleware.js';
import { sessionKey } from '../web/session.js';
import type { Identity } from './connection.js';
import { TokenBucket } from './rate-limit.js';

/**
 * Sockets per person and per instance, so that no one can exhaust an instance (file descriptors,
 * memory, database reads). Watching needs no account, so signed-out sockets are counted per client
 * address (a class or an office behind one address still fits); signed-in ones per account.
 */
export const SOCKET_LIMITS = { perAddress: 20, perAccount: 20, visitors: 5_000, total: 10_000 };
/** Messages per person across all their sockets: bursts of 20, 10 a second sustained. */
const BUDGET_SIZE = 20;
const BUDGET_PER_SECOND = 10;

/** A socket's place: whom it counts against, and that person's message budget. */
export interface Place {
  key: string;
  budget: TokenBucket;
}

/** The open sockets per person on this instance, within SOCKET_LIMITS. */
export class SocketPlaces {
  private readonly held = new Map<string, { count: number; budget: TokenBucket }>();
  private visitors = 0;
  private total = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly limits = SOCKET_LIMITS,
  ) {}

  /** Takes a place for a user (by id) or a visitor (by address); null when theirs or the instance's are full. */
  admit(who: { userId: number } | { address: string }): Place | null {
    const visitor = 'address' in who;
    const key = visitor ? `address:${who.address}` : `user:${who.userId}`;
    const entry = this.held.get(key) ?? { count: 0, budget: new TokenBucket(BUDGET_SIZE, BUDGET_PER_SECOND, this.now) };
    const full = entry.count >= (visitor ? this.limits.perAddress : this.limits.perAccount);
    if (full || this.total >= this.limits.total || (visitor && this.visitors >= this.limits.visitors)) return null;
    entry.count += 1;
    this.held.set(key, entry);
    this.total += 1;
    if (visitor) this.visitors += 1;
    return { key, budget: entry.budget };
  }

  release(place: Place) {
    const entry = this.held.get(place.key);
    if (!entry) return;
    entry.count -= 1;
    if (entry.count === 0) this.held.delete(place.key);
    this.total -= 1;
    if (place.key.startsWith('address:')) this.visitors -= 1;
  }
}

export interface UpgradeDeps {
  session: RequestHandler;
  /** The only Origin accepted; without it, the request's own origin (development). */
  publicOrigin: string | undefined;
  /** The client's address as the app's trust-proxy setting reads it. */
  clientAddress: (req: IncomingMessage) => string;
  places: SocketPlaces;
}

/** The upgrade's answer: who the socket is for and its place, or an HTTP refusal. */
export type Admission = { identity: Identity; place: Place } | { status: number; text: string };

const TOO_MANY = { status: 429, text: 'Too Many Requests' };

export async function admit(req: IncomingMessage, deps: UpgradeDeps): Promise<Admission> {
  if (new URL(req.url ?? '/', 'http://x').pathname !== '/ws') return { status: 404, text: 'Not Found' };
  if (req.headers.origin !== expectedOrigin(req, deps.publicOrigin)) return { status: 403, text: 'Forbidden' };
  const { session, sessionID } = await readSession(deps.session, req);
  const user = validAccount(session);
  if (user && sessionID) {
    const place = deps.places.admit({ userId: user.id });
    if (!place) return TOO_MANY;
    const expires = session!.cookie?.expires;
    const identity = {
      userId: user.id,
      sid: sessionID,
      sessionKey: sessionKey(sessionID),
      loginAt: session!.loginAt!,
      expiresAt: expires ? new Date(expires).getTime() : Infinity,
    };
    return { identity, place };
  }
  // Anyone may watch: a signed-out visitor's socket receives games but cannot act.
  const place = deps.places.admit({ address: deps.clientAddress(req) });
  if (!place) return TOO_MANY;
  return { identity: { userId: null, sid: '', sessionKey: '', loginAt: 0, expiresAt: Infinity }, place };
}

function expectedOrigin(req: IncomingMessage, publicOrigin: string | undefined): string {
  if (publicOrigin) return publicOrigin;
  const forwarded = req.headers['x-forwarded-proto'];
  const proto = typeof forwarded === 'string' ? forwarded.split(',')[0]!.trim() : 'http';
  return `${proto}://${req.headers.host ?? ''}`;
}

/** Runs express-session on the upgrade request, the same parser the pages use. */
function readSession(session: RequestHandler, req: IncomingMessage): Promise<IncomingMessage & { session?: Partial<SessionData>; sessionID?: string }> {
  return new Promise((resolve, reject) => {
    const res = {} as ServerResponse;
    session(req as never, res as never, (err?: unknown) => (err ? reject(err) : resolve(req)));
  });
}
