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
      // Never follow a redirect: one to /login would hand this browser a new, signed-out session.
      const res = await fetch('/lobby/lists', { headers: { Accept: 'text/html' }, credentials: 'same-origin', redirect: 'manual' });
      // The fragment is this site's own server-rendered, escaped template output.
      if (res.ok) {
        const html = await res.text();
        const focused = focusKey();
        lists.innerHTML = html;
        if (focused) restoreFocus(focused);
        showTurns();
      }
    } finally {
      fetching = false;
      if (again) {
        again = false;
        void refresh();
      }
    }
  };

  /**
   * Redrawing the lists must not throw a keyboard user's focus back to the top of the page: the
   * focused link or button is found again in the new lists (by where it leads), or else the
   * heading of its section takes the focus.
   */
  const focusKey = (): { selector: string; section: string | null } | null => {
    const el = document.activeElement;
    if (!(el instanceof HTMLElement) || !lists.contains(el)) return null;
    const section = el.closest('section')?.getAttribute('aria-labelledby') ?? null;
    if (el instanceof HTMLAnchorElement) return { selector: `a[href="${CSS.escape(el.getAttribute('href') ?? '')}"]`, section };
    const action = el.closest('form')?.getAttribute('action');
    if (action) return { selector: `form[action="${CSS.escape(action)}"] button`, section };
    return { selector: '', section };
  };
  const restoreFocus = ({ selector, section }: { selector: string; section: string | null }) => {
    const again = selector ? lists.querySelector<HTMLElement>(selector) : null;
    if (again) return again.focus();
    const heading = section ? document.getElementById(section) : null;
    if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
  };

  /** The tab says when a game needs you, as the server-rendered title does. */
  const showTurns = () => {
    const turns = lists.querySelectorAll('.your-turn').length;
    const games = turns === 1 ? '1 game' : `${turns} games`;
    document.title = `${turns ? `Your turn in ${games} · ` : ''}Lobby · Tic-Tac-Toe Online`;
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

/**
 * The Variant select: the rule under it follows the choice, and the strongest Difficulty is named
 * as the variant calls it (Perfect, or Hard in Ultimate). The form works the same without this.
 */
const variant = document.getElementById('variant') as HTMLSelectElement | null;
const level = document.getElementById('level') as HTMLSelectElement | null;
const rule = document.getElementById('variant-rule');
if (variant && level && rule) {
  const follow = () => {
    const chosen = variant.selectedOptions[0];
    rule.textContent = chosen?.dataset.rule ?? '';
    const top = level.querySelector<HTMLOptionElement>('option[value="perfect"], option[value="hard"]');
    if (top && chosen?.dataset.topLevel) {
      top.textContent = chosen.dataset.topLevel;
      top.value = chosen.dataset.topLevel.toLowerCase();
    }
  };
  variant.addEventListener('change', follow);
  follow();
}
