/**
 * One WebSocket per page that reconnects by itself with backoff, and a small indicator that says
 * "Reconnecting…" while it is down. `onOpen` runs after every (re)connection so the page can
 * subscribe again with the last version it saw; `onConnection` hears each change of the link.
 */
import { CLOSE_SIGNED_OUT } from '../game/close-codes.js';
import type { ClientMessage, ServerMessage } from '../game/protocol.js';

export interface LiveSocket {
  send(message: ClientMessage): boolean;
  readonly connected: boolean;
}

const SIGNED_OUT = 'Signed out: reload the page to continue';

export type ConnectionChange = 'connected' | 'lost' | 'restored' | 'signed-out';

type LinkState = 'live' | 'down';

/** The page's "Live" / "Reconnecting…" indicator (#connection); pages without one show nothing. */
function showLinkState(indicator: HTMLElement | null, text: string, state: LinkState) {
  if (!indicator) return;
  indicator.hidden = false;
  indicator.textContent = text;
  indicator.dataset.state = state;
  indicator.title = state === 'live' ? 'Connected: moves appear as they are played' : 'Connection lost: trying again';
}

/** 0.5 s, 1 s, 2 s … up to 10 s, with jitter so a restarted server is not hit all at once. */
function reconnectDelay(attempts: number): number {
  return Math.min(10_000, 500 * 2 ** attempts) * (0.75 + Math.random() * 0.5);
}

/** A frame as a server message; null for a malformed one. */
function parseFrame(data: unknown): ServerMessage | null {
  try {
    return JSON.parse(String(data)) as ServerMessage;
  } catch {
    return null;
  }
}

/** The socket behind connectLive: one WebSocket at a time, opened again whenever it closes. */
class ReconnectingSocket implements LiveSocket {
  private ws: WebSocket | null = null;
  private attempts = 0;
  private everConnected = false;
  private down = false;
  private signedOut = false;
  private readonly indicator = document.getElementById('connection');

  constructor(
    private readonly onOpen: (socket: LiveSocket) => void,
    private readonly onMessage: (message: ServerMessage) => void,
    private readonly onConnection: ((change: ConnectionChange) => void) | undefined,
    private readonly signedIn: boolean,
  ) {}

  send(message: ClientMessage): boolean {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  open() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    this.ws = new WebSocket(url);
    this.ws.addEventListener('open', () => this.opened());
    this.ws.addEventListener('message', (event) => this.received(event));
    this.ws.addEventListener('close', (event) => this.closed(event));
  }

  private opened() {
    this.attempts = 0;
    const first = !this.everConnected;
    this.everConnected = true;
    if (this.signedOut) showLinkState(this.indicator, SIGNED_OUT, 'down');
    else showLinkState(this.indicator, 'Live', 'live');
    this.onOpen(this);
    if (first) this.onConnection?.('connected');
    else if (this.down) this.onConnection?.('restored');
    this.down = false;
  }

  private received(event: MessageEvent) {
    const message = parseFrame(event.data);
    // A malformed frame is ignored; the next state message carries everything anyway.
    if (!message) return;
    if (message.type === 'hello') {
      if (this.signedIn && !message.signedIn && !this.signedOut) {
        this.signedOut = true;
        showLinkState(this.indicator, SIGNED_OUT, 'down');
        this.onConnection?.('signed-out');
      }
      return;
    }
    this.onMessage(message);
  }

  private closed(event: CloseEvent) {
    this.ws = null;
    if (event.code === CLOSE_SIGNED_OUT) {
      // The session this socket acted for ended. Reconnect at once: the server's hello then
      // says whether this browser is still signed in (another tab may have signed in anew).
      setTimeout(() => this.open(), 100);
      return;
    }
    if (this.everConnected) {
      showLinkState(this.indicator, 'Reconnecting…', 'down');
      if (!this.down) this.onConnection?.('lost');
      this.down = true;
    }
    const delay = reconnectDelay(this.attempts);
    this.attempts += 1;
    setTimeout(() => this.open(), delay);
  }
}

/**
 * `signedIn`: whether the page was drawn for a signed-in person. When the server then greets the
 * socket as a visitor's (the session ended: a logout in another tab, a password change elsewhere),
 * the page says "Signed out" and goes on watching.
 */
export function connectLive(
  onOpen: (socket: LiveSocket) => void,
  onMessage: (message: ServerMessage) => void,
  onConnection?: (change: ConnectionChange) => void,
  signedIn = true,
): LiveSocket {
  const socket = new ReconnectingSocket(onOpen, onMessage, onConnection, signedIn);
  socket.open();
  return socket;
}
