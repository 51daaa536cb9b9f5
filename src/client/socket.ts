/**
 * One WebSocket per page that reconnects by itself with backoff, and a small indicator that says
 * "Reconnecting…" while it is down. `onOpen` runs after every (re)connection so the page can
 * subscribe again with the last version it saw.
 */
import type { ClientMessage, ServerMessage } from '../game/protocol.js';

export interface LiveSocket {
  send(message: ClientMessage): boolean;
  readonly connected: boolean;
}

export function connectLive(onOpen: (socket: LiveSocket) => void, onMessage: (message: ServerMessage) => void): LiveSocket {
  const indicator = document.getElementById('connection');
  let ws: WebSocket | null = null;
  let attempts = 0;
  let everConnected = false;

  const show = (text: string, state: 'live' | 'down') => {
    if (!indicator) return;
    indicator.hidden = false;
    indicator.textContent = text;
    indicator.dataset.state = state;
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
      everConnected = true;
      show('Live', 'live');
      onOpen(live);
    });
    ws.addEventListener('message', (event) => {
      try {
        onMessage(JSON.parse(String(event.data)) as ServerMessage);
      } catch {
        // A malformed frame is ignored; the next state message carries everything anyway.
      }
    });
    ws.addEventListener('close', () => {
      ws = null;
      if (everConnected) show('Reconnecting…', 'down');
      // 0.5 s, 1 s, 2 s … up to 10 s, with jitter so a restarted server is not hit all at once.
      const delay = Math.min(10_000, 500 * 2 ** attempts) * (0.75 + Math.random() * 0.5);
      attempts += 1;
      setTimeout(open, delay);
    });
  }

  open();
  return live;
}
