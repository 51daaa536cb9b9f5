/**
 * LiveConnection: one per socket. Each text frame goes: rate limit → parse once → the handler of
 * its type (a map typed over the message union: a new message type without a handler does not
 * compile) → `ack` or `error`. Every error frame carries the id of the message it answers.
 */
import type { Logger } from 'pino';
import { CLOSE_POLICY, CLOSE_SIGNED_OUT } from '../game/close-codes.js';
import type { GameState } from '../game/model.js';
import { clientMessageSchema, type ClientMessage, type ServerMessage } from '../game/protocol.js';
import { RuleError } from '../game/variants/types.js';
import { GameError } from '../game/service.js';
import type { LiveHub, Subscriber } from './hub.js';
import type { TokenBucket } from './rate-limit.js';

/** A client that keeps sending past its budget is cut off. */
const MAX_REFUSED = 50;

/** The socket as a connection needs it (a `ws` WebSocket, or a test's fake). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code: number, reason: string): void;
}

/** Who the socket acts for, as the upgrade found it. */
export interface Identity {
  /** null for a signed-out visitor, who may watch but not act. */
  userId: number | null;
  sid: string;
  sessionKey: string;
  loginAt: number;
  expiresAt: number;
}

/** What players do, as the game service does it. */
export interface GameActions {
  move(userId: number, gameId: string, ply: number, cell: number, known: GameState | undefined): Promise<unknown>;
  resign(userId: number, gameId: string): Promise<void>;
  claim(userId: number, gameId: string): Promise<void>;
  rematch(userId: number, gameId: string): Promise<string | null>;
}

export interface ConnectionDeps {
  hub: LiveHub;
  actions: GameActions;
  /** The session's expiry (ms) if it is still signed in. */
  checkSession(sid: string): Promise<number | undefined>;
  /** Wall clock (ms) for session expiry. */
  now: () => number;
  logger: Logger;
}

type Handlers = { [K in ClientMessage['type']]: (message: Extract<ClientMessage, { type: K }>) => Promise<void> };
type Action = Extract<ClientMessage, { type: 'move' | 'resign' | 'claim' | 'rematch' }>;

const OPEN = 1;

export class LiveConnection implements Subscriber {
  readonly userId: number | null;
  readonly sid: string;
  readonly sessionKey: string;
  readonly loginAt: number;
  expiresAt: number;
  /** Whether the peer answered the last ping. */
  alive = true;
  /**
   * @param bucket the message budget of the person behind the socket, shared by all their sockets
   *   on this instance (see SocketPlaces), so that more sockets do not mean more database work.
   */
  constructor(
    private readonly socket: SocketLike,
    identity: Identity,
    private readonly bucket: TokenBucket,
    private readonly deps: ConnectionDeps,
  ) {
    ({ userId: this.userId, sid: this.sid, sessionKey: this.sessionKey, loginAt: this.loginAt, expiresAt: this.expiresAt } = identity);
  }

  deliver(message: ServerMessage | string) {
    if (this.socket.readyState === OPEN) this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  close(code: number, reason: string) {
    this.socket.close(code, reason);
  }

  /** One frame from the peer. Never throws: failures are answered with an error frame. */
  async onFrame(data: Buffer | string, isBinary: boolean): Promise<void> {
    const text = typeof data === 'string' ? data : data.toString('utf8');
    if (!this.bucket.take()) {
      if (this.bucket.refusedInARow > MAX_REFUSED) this.close(CLOSE_POLICY, 'Too many messages');
      else this.fail(requestIdIn(text), 'rate_limited', 'Slow down: too many messages.');
      return;
    }
    if (isBinary) return this.fail(undefined, 'bad_message', 'Send text frames only.');
    const parsed = parse(text);
    if ('error' in parsed) return this.fail(parsed.id, parsed.error, parsed.message);
    const message = parsed.message;
    try {
      await (this.handlers[message.type] as (m: ClientMessage) => Promise<void>)(message);
    } catch (err) {
      this.deps.logger.error({ err }, 'live message failed');
      this.fail(message.id, 'server_error', 'Something went wrong on our side. Try again.');
    }
  }

  private readonly handlers: Handlers = {
    subscribe: async (message) => {
      if (!(await this.deps.hub.watch(this, message.game))) this.fail(message.id, 'not_found', 'There is no game at this address.');
    },
    'subscribe-lobby': async (message) => {
      if (this.userId === null) return this.fail(message.id, 'not_signed_in', 'Log in to see your lobby.');
      this.deps.hub.watchLobby(this);
    },
    move: (message) => this.act(message, (user) => this.deps.actions.move(user, message.game, message.ply, message.cell, this.deps.hub.latest(message.game))),
    resign: (message) => this.act(message, (user) => this.deps.actions.resign(user, message.game)),
    claim: (message) => this.act(message, (user) => this.deps.actions.claim(user, message.game)),
    rematch: (message) =>
      this.act(message, async (user) => {
        const rematchId = await this.deps.actions.rematch(user, message.game);
        return { rematchId };
      }),
  };

  /** An action for the signed-in user, answered with `ack` (plus what `run` returns) or `error`. */
  private async act(message: Action, run: (userId: number) => Promise<unknown>) {
    const userId = this.userId;
    if (userId === null) return this.fail(message.id, 'not_signed_in', 'Log in to play.');
    if (!(await this.sessionLasts())) {
      this.fail(message.id, 'session_expired', 'Your session has expired. Log in again to play.');
      return this.close(CLOSE_SIGNED_OUT, 'Signed out');
    }
    try {
      const result = await run(userId);
      const extra = message.type === 'rematch' ? (result as { rematchId: string | null }) : {};
      this.deliver({ type: 'ack', id: message.id, ...extra });
    } catch (err) {
      if (!(err instanceof GameError || err instanceof RuleError)) throw err;
      this.fail(message.id, err.code, err.message);
      // Whatever the client believed, show it the position as it is.
      if (err.code !== 'not_found') await this.deps.hub.sendState(this, message.game);
    }
  }

  /**
   * A socket outlives its session's known expiry only until its next action: page loads may have
   * moved the expiry forward since, so the database decides.
   */
  private async sessionLasts(): Promise<boolean> {
    if (this.deps.now() < this.expiresAt) return true;
    const expires = await this.deps.checkSession(this.sid);
    if (expires === undefined) return false;
    this.expiresAt = expires;
    return true;
  }

  private fail(id: string | undefined, code: string, message: string) {
    this.deliver({ type: 'error', ...(id ? { id } : {}), code, message });
  }
}

type Parsed = { message: ClientMessage } | { error: string; message: string; id: string | undefined };

/** Parses a frame once, into a message of the union or the reason it is not one. */
function parse(text: string): Parsed {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { error: 'bad_json', message: 'That message is not valid JSON.', id: undefined };
  }
  const parsed = clientMessageSchema.safeParse(raw);
  if (parsed.success) return { message: parsed.data };
  return { error: 'bad_message', message: 'That message is not one this server understands.', id: idOf(raw) };
}

/** The request id of a message that was not accepted, so that its error can name it. */
function idOf(raw: unknown): string | undefined {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id.length > 0 ? id.slice(0, 40) : undefined;
}

function requestIdIn(text: string): string | undefined {
  try {
    return idOf(JSON.parse(text));
  } catch {
    return undefined;
  }
}
