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
  const indicator = document.getElementById('connection');
  let ws: WebSocket | null = null;
  let attempts = 0;
  let everConnected = false;
  let down = false;
  let signedOut = false;

  const show = (text: string, state: 'live' | 'down') => {
    if (!indicator) return;
    indicator.hidden = false;
    indicator.textContent = text;
    indicator.dataset.state = state;
    indicator.title = state === 'live' ? 'Connected: moves appear as they are played' : 'Connection lost: trying again';
  };

  const live: LiveSocket = {
    send(message) {
      if (!ws || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(message));
      return true;
    },
    get connected() {
      return ws?.readyState === WebSocket.OPEN;
    },
  };

  function open() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    ws = new WebSocket(url);
    ws.addEventListener('open', () => {
      attempts = 0;
      const first = !everConnected;
      everConnected = true;
      if (signedOut) show(SIGNED_OUT, 'down');
      else show('Live', 'live');
      onOpen(live);
      if (first) onConnection?.('connected');
      else if (down) onConnection?.('restored');
      down = false;
    });
    ws.addEventListener('message', (event) => {
      let message: ServerMessage;
      try {
        message = JSON.parse(String(event.data)) as ServerMessage;
      } catch {
        return; // A malformed frame is ignored; the next state message carries everything anyway.
      }
      if (message.type === 'hello') {
        if (signedIn && !message.signedIn && !signedOut) {
          signedOut = true;
          show(SIGNED_OUT, 'down');
          onConnection?.('signed-out');
        }
        return;
      }
      onMessage(message);
    });
    ws.addEventListener('close', (event) => {
      ws = null;
      if (event.code === CLOSE_SIGNED_OUT) {
        // The session this socket acted for ended. Reconnect at once: the server's hello then
        // says whether this browser is still signed in (another tab may have signed in anew).
        setTimeout(open, 100);
        return;
      }
      if (everConnected) {
        show('Reconnecting…', 'down');
        if (!down) onConnection?.('lost');
        down = true;
      }
      // 0.5 s, 1 s, 2 s … up to 10 s, with jitter so a restarted server is not hit all at once.
      const delay = Math.min(10_000, 500 * 2 ** attempts) * (0.75 + Math.random() * 0.5);
      attempts += 1;
      setTimeout(open, delay);
    });
  }

  open();
  return live;
}
