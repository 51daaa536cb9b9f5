/**
 * Live play over one WebSocket per page at /ws: wires the upgrade check, one LiveConnection per
 * socket, the instance's LiveHub (fed by the bus: LISTEN/NOTIFY across instances) and socket
 * presence, and drops dead peers by ping/pong.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLOSE_GOING_AWAY } from '../game/close-codes.js';
import { claimVictory, loadGame, makeMove, rematch, resign, type GameDeps } from '../game/service.js';
import { signedInSessions } from '../web/session.js';
import { LiveConnection, type ConnectionDeps } from './connection.js';
import { LiveHub } from './hub.js';
import { SocketPresence } from './presence.js';
import { admit, SocketPlaces, type Admission } from './upgrade.js';

const MAX_FRAME_BYTES = 4 * 1024;
const PING_EVERY_MS = 30_000;

export interface LiveDeps extends GameDeps {
  logger: Logger;
  session: RequestHandler;
  publicOrigin: string | undefined;
  /** The client's address as the app's trust-proxy setting reads it. */
  clientAddress: (req: IncomingMessage) => string;
}

/** The instance's hub, fed by the bus, and what each connection needs. */
function createHub(deps: LiveDeps, presence: SocketPresence): { hub: LiveHub; connectionDeps: ConnectionDeps } {
  const { logger } = deps;
  const checkSessions = (sids: string[]) => signedInSessions(deps.db, sids);
  const hub = new LiveHub({ loadGame: (id) => loadGame(deps, id), checkSessions, presence, clock: deps.clock, logger });
  deps.bus.subscribe((event) => void hub.onEvent(event).catch((err: unknown) => logger.warn({ err }, 'could not deliver a live event')));
  const connectionDeps: ConnectionDeps = {
    hub,
    actions: {
      move: (user, game, ply, cell, known) => makeMove(deps, user, game, ply, cell, known),
      resign: (user, game) => resign(deps, user, game),
      claim: (user, game) => claimVictory(deps, user, game),
      rematch: (user, game) => rematch(deps, user, game),
    },
    checkSession: async (sid) => (await checkSessions([sid])).get(sid),
    now: Date.now,
    logger,
  };
  return { hub, connectionDeps };
}

/** Open sockets and their connections; drops peers that stop answering pings (sleeping laptop, dropped network). */
class Sockets {
  private readonly open = new Map<LiveConnection, WebSocket>();
  private readonly pinger = setInterval(() => this.ping(), PING_EVERY_MS);

  constructor() {
    this.pinger.unref();
  }

  add(conn: LiveConnection, ws: WebSocket) {
    this.open.set(conn, ws);
    ws.on('pong', () => (conn.alive = true));
  }

  delete(conn: LiveConnection) {
    this.open.delete(conn);
  }

  stop() {
    clearInterval(this.pinger);
  }

  private ping() {
    for (const [conn, ws] of this.open) {
      if (!conn.alive) {
        ws.terminate();
        continue;
      }
      conn.alive = false;
      ws.ping();
    }
  }
}

/** Serves /ws on `server`; `close()` tells every client to reconnect elsewhere, then stops. */
export function attachLive(server: Server, deps: LiveDeps) {
  const { logger } = deps;
  const instanceId = randomBytes(6).toString('hex');
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const presence = new SocketPresence(deps, instanceId);
  const { hub, connectionDeps } = createHub(deps, presence);
  const places = new SocketPlaces();
  const sockets = new Sockets();

  function open(ws: WebSocket, admission: Extract<Admission, { identity: unknown }>) {
    const conn = new LiveConnection(ws, admission.identity, admission.place.budget, connectionDeps);
    sockets.add(conn, ws);
    hub.add(conn);
    ws.on('message', (data: Buffer, isBinary: boolean) => void conn.onFrame(data, isBinary));
    ws.on('close', () => {
      sockets.delete(conn);
      hub.remove(conn);
      places.release(admission.place);
    });
    ws.on('error', (err) => logger.debug({ err }, 'socket error'));
    logger.info({ user: conn.userId, instance: instanceId }, 'live socket opened');
    conn.deliver({ type: 'hello', signedIn: conn.userId !== null });
    hub.revalidate([conn]).catch((err: unknown) => logger.warn({ err }, "could not check a new socket's session"));
  }

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on('error', () => socket.destroy());
    const admission = await admit(req, { session: deps.session, publicOrigin: deps.publicOrigin, clientAddress: deps.clientAddress, places });
    if ('status' in admission) return refuse(socket, admission.status, admission.text);
    let upgraded = false;
    // An upgrade that fails before it completes gives the place back.
    socket.once('close', () => {
      if (!upgraded) places.release(admission.place);
    });
    wss.handleUpgrade(req, socket, head, (ws) => {
      upgraded = true;
      open(ws, admission);
    });
  }

  const onUpgradeEvent = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    onUpgrade(req, socket, head).catch((err: unknown) => {
      logger.error({ err }, 'WebSocket upgrade failed');
      refuse(socket, 503, 'Service Unavailable');
    });
  };
  server.on('upgrade', onUpgradeEvent);

  return {
    instanceId,
    async close() {
      server.off('upgrade', onUpgradeEvent);
      sockets.stop();
      presence.stop();
      hub.closeAll(CLOSE_GOING_AWAY, 'Server restarting');
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function refuse(socket: Duplex, status: number, text: string) {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${text}\n`);
}
