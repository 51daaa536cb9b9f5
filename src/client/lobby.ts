/** Keeps the lobby lists current: the socket says when they changed, the script fetches them. */
import { connectLive } from './socket.js';

const lists = document.getElementById('lobby-lists');
if (lists) {
  let fetching = false;
  let again = false;

  const refresh = async () => {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    try {
      const res = await fetch('/lobby/lists', { headers: { Accept: 'text/html' }, credentials: 'same-origin' });
      // The fragment is this site's own server-rendered, escaped template output.
      if (res.ok) lists.innerHTML = await res.text();
    } finally {
      fetching = false;
      if (again) {
        again = false;
        void refresh();
      }
    }
  };

  let first = true;
  connectLive(
    (live) => {
      live.send({ type: 'subscribe-lobby' });
      // After a reconnection something may have changed while we were away.
      if (!first) void refresh();
      first = false;
    },
    (message) => {
      if (message.type === 'lobby') void refresh();
    },
  );
}
