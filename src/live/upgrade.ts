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

/**
 * Watching needs no account, so signed-out sockets are limited, per client address (a class or an
 * office behind one address still fits) and per instance, so that watching cannot exhaust it.
 */
export const WATCHERS_PER_ADDRESS = 20;
export const WATCHERS_PER_INSTANCE = 5_000;

/** Signed-out sockets per client address on this instance, within both limits. */
export class WatcherLimit {
  private readonly perAddress = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly maxPerAddress = WATCHERS_PER_ADDRESS,
    private readonly maxTotal = WATCHERS_PER_INSTANCE,
  ) {}

  /** Takes a place for the address; false when it or the instance is full. */
  admit(address: string): boolean {
    const here = this.perAddress.get(address) ?? 0;
    if (here >= this.maxPerAddress || this.total >= this.maxTotal) return false;
    this.perAddress.set(address, here + 1);
    this.total += 1;
    return true;
  }

  release(address: string) {
    const here = (this.perAddress.get(address) ?? 1) - 1;
    if (here > 0) this.perAddress.set(address, here);
    else this.perAddress.delete(address);
    this.total -= 1;
  }
}

export interface UpgradeDeps {
  session: RequestHandler;
  /** The only Origin accepted; without it, the request's own origin (development). */
  publicOrigin: string | undefined;
  /** The client's address as the app's trust-proxy setting reads it. */
  clientAddress: (req: IncomingMessage) => string;
  watchers: WatcherLimit;
}

/** The upgrade's answer: who the socket is for (with a visitor's address), or an HTTP refusal. */
export type Admission = { identity: Identity; visitorAddress: string | null } | { status: number; text: string };

export async function admit(req: IncomingMessage, deps: UpgradeDeps): Promise<Admission> {
  if (new URL(req.url ?? '/', 'http://x').pathname !== '/ws') return { status: 404, text: 'Not Found' };
  if (req.headers.origin !== expectedOrigin(req, deps.publicOrigin)) return { status: 403, text: 'Forbidden' };
  const { session, sessionID } = await readSession(deps.session, req);
  const user = validAccount(session);
  if (user && sessionID) {
    const expires = session!.cookie?.expires;
    return {
      identity: {
        userId: user.id,
        sid: sessionID,
        sessionKey: sessionKey(sessionID),
        loginAt: session!.loginAt!,
        expiresAt: expires ? new Date(expires).getTime() : Infinity,
      },
      visitorAddress: null,
    };
  }
  // Anyone may watch: a signed-out visitor's socket receives games but cannot act.
  const address = deps.clientAddress(req);
  if (!deps.watchers.admit(address)) return { status: 429, text: 'Too Many Requests' };
  return { identity: { userId: null, sid: '', sessionKey: '', loginAt: 0, expiresAt: Infinity }, visitorAddress: address };
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
