/**
 * Live play over one WebSocket per page at /ws. The upgrade needs the session cookie and this
 * site's Origin; frames are small and rate limited; dead peers are dropped by ping/pong. Events
 * come from the bus (LISTEN/NOTIFY across instances): each instance reads a changed game once and
 * sends it to its own sockets.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SessionData } from 'express-session';
import { validAccount } from '../auth/middleware.js';
import { batched } from '../db/batch.js';
import { sessionKey, signedInSessions } from '../web/session.js';
import type { BusEvent } from '../db/events.js';
import type { GameState } from './model.js';
import { RuleError } from './rules.js';
import { CLOSE_GOING_AWAY, CLOSE_POLICY, CLOSE_SIGNED_OUT, CLOSE_TRY_AGAIN, clientMessageSchema, type ClientMessage, type ServerMessage } from './protocol.js';
import { claimVictory, GameError, loadGame, makeMove, rematch, resign, type GameDeps } from './service.js';
import * as store from './store.js';

const MAX_FRAME_BYTES = 4 * 1024;
const PING_EVERY_MS = 30_000;
const PRESENCE_REFRESH_MS = 10_000;
/** Token bucket per connection: bursts of 20 messages, 10 a second sustained. */
const BUCKET_SIZE = 20;
const REFILL_PER_SECOND = 10;
/** A client that keeps sending past the limit is cut off. */
const MAX_REFUSED = 50;
/**
 * Lobby refresh notices per socket: at most one per interval (the first at once), plus one at its
 * end when the lists changed again during it.
 */
const LOBBY_NOTICE_MS = 500;
/**
 * Watching needs no account, so signed-out sockets are limited, per client address (a class or an
 * office behind one address still fits) and per instance, so that watching cannot exhaust it.
 */
const WATCHERS_PER_ADDRESS = 20;
const WATCHERS_PER_INSTANCE = 5_000;

export interface LiveDeps extends GameDeps {
  logger: Logger;
  session: RequestHandler;
  /** The only Origin accepted; without it, the request's own origin (development). */
  publicOrigin: string | undefined;
  /** The client's address as the app's trust-proxy setting reads it; default: the peer's. */
  clientAddress?: (req: IncomingMessage) => string;
}

interface Connection {
  socket: WebSocket;
  /** Null for a signed-out visitor, who may watch but not act. */
  userId: number | null;
  /** A signed-out visitor's address, counted against WATCHERS_PER_ADDRESS. */
  address: string | null;
  /** The session the socket acts for: its id, bus key, login time and expiry (ms). */
  sid: string;
  sessionKey: string;
  loginAt: number;
  expiresAt: number;
  game: string | null;
  /** Whether the user plays in `game` (so their presence counts) rather than watches it. */
  playing: boolean;
  alive: boolean;
  tokens: number;
  refilledAt: number;
  refused: number;
  lobbyTimer: NodeJS.Timeout | null;
  /** The lists changed while `lobbyTimer` ran: notify again when it ends. */
  lobbyChanged: boolean;
}

function expectedOrigin(req: IncomingMessage, publicOrigin: string | undefined): string {
  if (publicOrigin) return publicOrigin;
  const forwarded = req.headers['x-forwarded-proto'];
  const proto = typeof forwarded === 'string' ? forwarded.split(',')[0]!.trim() : 'http';
  return `${proto}://${req.headers.host ?? ''}`;
}

function refuse(socket: Duplex, status: number, text: string) {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${text}\n`);
}

/** Runs express-session on the upgrade request, the same parser the pages use. */
function readSession(session: RequestHandler, req: IncomingMessage): Promise<IncomingMessage & { session?: Partial<SessionData>; sessionID?: string }> {
  return new Promise((resolve, reject) => {
    const res = {} as ServerResponse;
    session(req as never, res as never, (err?: unknown) => (err ? reject(err) : resolve(req)));
  });
}

export function attachLive(server: Server, deps: LiveDeps) {
  const { logger } = deps;
  const instanceId = randomBytes(6).toString('hex');
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, clientTracking: true });
  const connections = new Set<Connection>();
  const watchers = new Map<string, Set<Connection>>();
  const lobbyWatchers = new Set<Connection>();
  /** Live sockets per game and player on this instance, for presence. */
  const playerSockets = new Map<string, number>();
  /** Presence changes of all sockets go to the database together (see batched). */
  const savePresence = batched<store.PresenceRow>((rows) => store.savePresence(deps.db, rows));

  const send = (conn: Connection, message: ServerMessage) => {
    if (conn.socket.readyState === conn.socket.OPEN) conn.socket.send(JSON.stringify(message));
  };

  /**
   * The newest state seen of each game watched here (read, or carried by a move's event). A move
   * made on a game at this ply needs no read first (see makeMove); the write is guarded anyway.
   */
  const latest = new Map<string, GameState>();
  /** Keeps `game` if it is newer than what is known; says whether it was. */
  function remember(game: GameState): boolean {
    const known = latest.get(game.id);
    if (known && known.version > game.version) return false;
    if (watchers.has(game.id)) latest.set(game.id, game);
    return true;
  }

  function broadcast(conns: Iterable<Connection>, game: GameState) {
    const message = JSON.stringify({ type: 'state', game, now: deps.clock() } satisfies ServerMessage);
    for (const conn of conns) if (conn.socket.readyState === conn.socket.OPEN) conn.socket.send(message);
  }

  async function sendState(conns: Iterable<Connection>, gameId: string) {
    const game = await loadGame(deps, gameId);
    if (game && remember(game)) broadcast(conns, game);
  }

  /**
   * Games whose state is being read for their watchers, and whether another event came in the
   * meantime. Events that arrive during a read cost one more read, not one each (a move and a
   * presence change often come together), and the last read always starts after the last event.
   */
  const refreshing = new Map<string, boolean>();
  async function refreshWatchers(gameId: string) {
    if (refreshing.has(gameId)) {
      refreshing.set(gameId, true);
      return;
    }
    try {
      do {
        refreshing.set(gameId, false);
        const conns = watchers.get(gameId);
        if (conns?.size) await sendState(conns, gameId);
      } while (refreshing.get(gameId));
    } finally {
      refreshing.delete(gameId);
    }
  }

  /**
   * A change inside the interval is not dropped: the client may have fetched the lists before it
   * committed, and without the trailing notice would show them stale until the next change.
   */
  function noticeLobby(conn: Connection) {
    if (conn.lobbyTimer) {
      conn.lobbyChanged = true;
      return;
    }
    send(conn, { type: 'lobby' });
    conn.lobbyChanged = false;
    conn.lobbyTimer = setTimeout(() => {
      conn.lobbyTimer = null;
      if (conn.lobbyChanged) noticeLobby(conn);
    }, LOBBY_NOTICE_MS);
  }

  /**
   * A socket acts for its session only while the session lasts. Every way a session ends publishes
   * an event that closes its sockets on every instance; a socket outlives its session's expiry
   * only until its next action (see act).
   */
  function endSessions(ended: (conn: Connection) => boolean) {
    for (const conn of connections) if (ended(conn)) conn.socket.close(CLOSE_SIGNED_OUT, 'Signed out');
  }

  /**
   * Checks sockets' sessions against the database: those that ended close, the others learn their
   * current expiry (page loads move it forward). Run for every new socket (an event that ended its
   * session while it was opening was not seen by it), after the bus reconnects (events may have
   * been lost), and when a socket's known expiry has passed.
   */
  async function revalidate(all: Connection[]) {
    const conns = all.filter((c) => c.userId !== null);
    if (conns.length === 0) return;
    const valid = await signedInSessions(deps.db, [...new Set(conns.map((c) => c.sid))]);
    const checked = new Set(conns);
    endSessions((conn) => checked.has(conn) && !valid.has(conn.sid));
    for (const conn of conns) conn.expiresAt = valid.get(conn.sid) ?? conn.expiresAt;
  }

  deps.bus.subscribe((event: BusEvent) => {
    void (async () => {
      if (event.kind === 'user') {
        const { user, validAfter } = event;
        endSessions((conn) => conn.userId === user && (validAfter === undefined || conn.loginAt < validAfter));
        return;
      }
      if (event.kind === 'session') {
        endSessions((conn) => conn.sessionKey === event.session);
        return;
      }
      if (event.kind === 'unavailable') {
        // Without the database no move can be made: clients show "Reconnecting…" and come back
        // (and resync) once the upgrade, which reads the session, works again.
        for (const conn of connections) conn.socket.close(CLOSE_TRY_AGAIN, 'Database unavailable');
        return;
      }
      if (event.kind === 'resync') {
        await revalidate([...connections]);
        for (const gameId of [...watchers.keys()]) await refreshWatchers(gameId);
        for (const conn of lobbyWatchers) noticeLobby(conn);
        return;
      }
      for (const conn of lobbyWatchers) if (event.lobby || (conn.userId !== null && event.players.includes(conn.userId))) noticeLobby(conn);
      const conns = watchers.get(event.game);
      if (!conns) return;
      if (!event.state) await refreshWatchers(event.game);
      else if (remember(event.state)) broadcast(conns, event.state);
    })().catch((err: unknown) => logger.warn({ err }, 'could not deliver a live event'));
  });

  /** Counts a player's sockets on a game; the first and the last change what the opponent sees. */
  async function presence(gameId: string, userId: number, delta: 1 | -1) {
    const key = `${gameId}:${userId}`;
    const count = (playerSockets.get(key) ?? 0) + delta;
    if (count > 0) playerSockets.set(key, count);
    else playerSockets.delete(key);
    await savePresence({ gameId, userId, instanceId, connections: count, now: deps.clock() });
    // Only the first socket and the last change what the opponent sees. Every instance re-reads
    // the game when the event arrives, so the version in it is only a hint (0: "unchanged").
    if ((delta === 1 && count === 1) || count === 0) {
      await deps.bus.publish({ kind: 'game', game: gameId, version: 0, players: [], lobby: false });
    }
  }

  function unwatch(conn: Connection) {
    lobbyWatchers.delete(conn);
    if (!conn.game) return;
    const gameId = conn.game;
    const set = watchers.get(gameId);
    set?.delete(conn);
    if (set?.size === 0) {
      watchers.delete(gameId);
      latest.delete(gameId);
    }
    if (conn.playing && conn.userId !== null) {
      presence(gameId, conn.userId, -1).catch((err: unknown) => logger.warn({ err }, 'presence update failed'));
    }
    conn.game = null;
    conn.playing = false;
  }

  async function watch(conn: Connection, gameId: string) {
    const game = await loadGame(deps, gameId);
    if (!game) {
      send(conn, { type: 'error', code: 'not_found', message: 'There is no game at this address.' });
      return;
    }
    unwatch(conn);
    conn.game = gameId;
    let set = watchers.get(gameId);
    if (!set) watchers.set(gameId, (set = new Set()));
    set.add(conn);
    remember(game);
    conn.playing = conn.userId !== null && (game.players.X?.id === conn.userId || game.players.O?.id === conn.userId);
    send(conn, { type: 'state', game, now: deps.clock() });
    if (conn.playing && conn.userId !== null) await presence(gameId, conn.userId, 1);
  }

  /** Within the per-connection budget? */
  function allowed(conn: Connection): boolean {
    const now = Date.now();
    conn.tokens = Math.min(BUCKET_SIZE, conn.tokens + ((now - conn.refilledAt) / 1000) * REFILL_PER_SECOND);
    conn.refilledAt = now;
    if (conn.tokens >= 1) {
      conn.tokens -= 1;
      conn.refused = 0;
      return true;
    }
    conn.refused += 1;
    return false;
  }

  async function act(conn: Connection, message: Exclude<ClientMessage, { type: 'subscribe' | 'subscribe-lobby' }>) {
    const userId = conn.userId;
    if (userId === null) {
      send(conn, { type: 'error', id: message.id, code: 'not_signed_in', message: 'Log in to play.' });
      return;
    }
    if (Date.now() >= conn.expiresAt) {
      // Page loads may have moved the expiry forward since: ask the database.
      const expires = (await signedInSessions(deps.db, [conn.sid])).get(conn.sid);
      if (expires === undefined) {
        send(conn, { type: 'error', id: message.id, code: 'session_expired', message: 'Your session has expired. Log in again to play.' });
        conn.socket.close(CLOSE_SIGNED_OUT, 'Signed out');
        return;
      }
      conn.expiresAt = expires;
    }
    try {
      let rematchId: string | null | undefined;
      if (message.type === 'move') await makeMove(deps, userId, message.game, message.ply, message.cell, latest.get(message.game));
      else if (message.type === 'resign') await resign(deps, userId, message.game);
      else if (message.type === 'claim') await claimVictory(deps, userId, message.game);
      else rematchId = await rematch(deps, userId, message.game);
      send(conn, { type: 'ack', id: message.id, ...(rematchId !== undefined ? { rematchId } : {}) });
    } catch (err) {
      if (err instanceof GameError || err instanceof RuleError) {
        send(conn, { type: 'error', id: message.id, code: err.code, message: err.message });
        // Whatever the client believed, show it the position as it is.
        if (err.code !== 'not_found') await sendState([conn], message.game);
        return;
      }
      throw err;
    }
  }

  async function onMessage(conn: Connection, data: Buffer) {
    if (!allowed(conn)) {
      if (conn.refused > MAX_REFUSED) conn.socket.close(CLOSE_POLICY, 'Too many messages');
      else send(conn, { type: 'error', code: 'rate_limited', message: 'Slow down: too many messages.' });
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString('utf8'));
    } catch {
      send(conn, { type: 'error', code: 'bad_json', message: 'That message is not valid JSON.' });
      return;
    }
    const parsed = clientMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const id = typeof (raw as { id?: unknown })?.id === 'string' ? String((raw as { id: string }).id).slice(0, 40) : undefined;
      send(conn, { type: 'error', ...(id ? { id } : {}), code: 'bad_message', message: 'That message is not one this server understands.' });
      return;
    }
    const message = parsed.data;
    if (message.type === 'subscribe') await watch(conn, message.game);
    else if (message.type === 'subscribe-lobby') {
      if (conn.userId === null) return send(conn, { type: 'error', code: 'not_signed_in', message: 'Log in to see your lobby.' });
      unwatch(conn);
      lobbyWatchers.add(conn);
    } else await act(conn, message);
  }

  /** Signed-out sockets per address on this instance. */
  const watchersAt = new Map<string, number>();
  let watcherCount = 0;
  function admitWatcher(address: string): boolean {
    const here = watchersAt.get(address) ?? 0;
    if (here >= WATCHERS_PER_ADDRESS || watcherCount >= WATCHERS_PER_INSTANCE) return false;
    watchersAt.set(address, here + 1);
    watcherCount += 1;
    return true;
  }
  function releaseWatcher(address: string) {
    const here = (watchersAt.get(address) ?? 1) - 1;
    if (here > 0) watchersAt.set(address, here);
    else watchersAt.delete(address);
    watcherCount -= 1;
  }

  function onConnection(socket: WebSocket, identity: Pick<Connection, 'userId' | 'address' | 'sid' | 'sessionKey' | 'loginAt' | 'expiresAt'>) {
    const conn: Connection = {
      socket,
      ...identity,
      game: null,
      playing: false,
      alive: true,
      tokens: BUCKET_SIZE,
      refilledAt: Date.now(),
      refused: 0,
      lobbyTimer: null,
      lobbyChanged: false,
    };
    socket.on('pong', () => (conn.alive = true));
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        send(conn, { type: 'error', code: 'bad_message', message: 'Send text frames only.' });
        return;
      }
      onMessage(conn, data).catch((err: unknown) => {
        logger.error({ err }, 'live message failed');
        send(conn, { type: 'error', code: 'server_error', message: 'Something went wrong on our side. Try again.' });
      });
    });
    connections.add(conn);
    socket.on('close', () => {
      connections.delete(conn);
      if (conn.address !== null) releaseWatcher(conn.address);
      if (conn.lobbyTimer) clearTimeout(conn.lobbyTimer);
      unwatch(conn);
    });
    socket.on('error', (err) => logger.debug({ err }, 'socket error'));
    return conn;
  }

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', () => socket.destroy());
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/ws') return refuse(socket, 404, 'Not Found');
    if (req.headers.origin !== expectedOrigin(req, deps.publicOrigin)) return refuse(socket, 403, 'Forbidden');
    const { session, sessionID } = await readSession(deps.session, req);
    const user = validAccount(session);
    let identity: Pick<Connection, 'userId' | 'address' | 'sid' | 'sessionKey' | 'loginAt' | 'expiresAt'>;
    if (user && sessionID) {
      identity = {
        userId: user.id,
        address: null,
        sid: sessionID,
        sessionKey: sessionKey(sessionID),
        loginAt: session!.loginAt!,
        expiresAt: session!.cookie?.expires ? new Date(session!.cookie.expires).getTime() : Infinity,
      };
    } else {
      // Anyone may watch: a signed-out visitor's socket receives games but cannot act.
      const address = deps.clientAddress?.(req) ?? req.socket.remoteAddress ?? '';
      if (!admitWatcher(address)) return refuse(socket, 429, 'Too Many Requests');
      identity = { userId: null, address, sid: '', sessionKey: '', loginAt: 0, expiresAt: Infinity };
    }
    let upgraded = false;
    // An upgrade that fails before it completes gives the watcher's place back.
    socket.once('close', () => {
      if (!upgraded && identity.address !== null) releaseWatcher(identity.address);
    });
    wss.handleUpgrade(req, socket, head, (ws) => {
      upgraded = true;
      logger.info({ user: identity.userId, instance: instanceId }, 'live socket opened');
      const conn = onConnection(ws, identity);
      send(conn, { type: 'hello', signedIn: conn.userId !== null });
      revalidate([conn]).catch((err: unknown) => logger.warn({ err }, 'could not check a new socket\'s session'));
    });
  }

  const onUpgradeEvent = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    onUpgrade(req, socket, head).catch((err: unknown) => {
      logger.error({ err }, 'WebSocket upgrade failed');
      refuse(socket, 503, 'Service Unavailable');
    });
  };
  server.on('upgrade', onUpgradeEvent);

  // A peer that has not answered the last ping is gone (sleeping laptop, dropped network).
  const pinger = setInterval(() => {
    for (const conn of connections) {
      if (!conn.alive) {
        conn.socket.terminate();
        continue;
      }
      conn.alive = false;
      conn.socket.ping();
    }
  }, PING_EVERY_MS);
  const presenceRefresher = setInterval(() => {
    store.refreshPresence(deps.db, instanceId, deps.clock()).catch((err: unknown) => logger.warn({ err }, 'presence refresh failed'));
  }, PRESENCE_REFRESH_MS);
  pinger.unref();
  presenceRefresher.unref();

  return {
    instanceId,
    /** Tells every client to reconnect elsewhere (they resync by version), then stops. */
    async close() {
      server.off('upgrade', onUpgradeEvent);
      clearInterval(pinger);
      clearInterval(presenceRefresher);
      for (const conn of connections) conn.socket.close(CLOSE_GOING_AWAY, 'Server restarting');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
