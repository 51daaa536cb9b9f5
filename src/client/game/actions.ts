/**
 * The action forms (Join game, Resign, Cancel game, Claim victory, Rematch), found by their stable
 * `data-action` key, never by their words; the Hint link; the invite link's Copy button. Without
 * the script each form posts as usual; with it, an action goes over the socket when connected.
 */
import type { ClientMessage } from '../../game/protocol.js';
import type { GameView } from '../../game/view.js';
import type { LiveGame } from './live.js';
import { announce, showError, type GamePage } from './page.js';
import type { Pending } from './pending.js';

type ActionKey = 'join' | 'resign' | 'cancel' | 'claim' | 'rematch';
type ActionMessage = Extract<ClientMessage, { type: 'resign' | 'claim' | 'rematch' }>['type'];

/** For each form in views/game.ejs: when it shows, and what it sends over the socket. */
const ACTIONS: Record<ActionKey, { shown: (view: GameView) => boolean; message: ActionMessage | null }> = {
  // Join reloads the page as a player: a plain form post is right.
  join: { shown: (view) => view.canJoin, message: null },
  resign: { shown: (view) => view.canResign, message: 'resign' },
  cancel: { shown: (view) => view.canCancel, message: 'resign' },
  claim: { shown: (view) => view.canClaim, message: 'claim' },
  rematch: { shown: (view) => view.canRematch, message: 'rematch' },
};

function actionOf(form: HTMLFormElement) {
  const key = form.dataset.action ?? '';
  return Object.hasOwn(ACTIONS, key) ? ACTIONS[key as ActionKey] : null;
}

/** Shows the forms and links that apply to `view`. */
export function renderActions(page: GamePage, view: GameView): void {
  const $ = <T extends HTMLElement>(id: string) => page.root.querySelector<T>(`#${id}`);
  const hintLink = $('hint-link');
  if (hintLink) hintLink.hidden = !view.canHint;
  for (const form of page.root.querySelectorAll<HTMLFormElement>('form[data-action]')) {
    form.hidden = !actionOf(form)?.shown(view);
  }
  const rematchLink = $<HTMLAnchorElement>('rematch-link');
  if (rematchLink) {
    rematchLink.hidden = !view.rematchId;
    if (view.rematchId) rematchLink.href = `/games/${view.rematchId}`;
  }
  const invite = $('invite');
  if (invite) invite.hidden = !view.showInvite;
}

/** A pressed action shows at once, whether it goes over the socket or as a form post. */
export function wireActions(page: GamePage, pending: Pending, live: LiveGame): void {
  for (const form of page.root.querySelectorAll<HTMLFormElement>('form[data-action]')) {
    const message = actionOf(form)?.message ?? null;
    const button = form.querySelector<HTMLButtonElement>('button');
    form.addEventListener('submit', (event) => {
      if (button?.getAttribute('aria-disabled') === 'true') {
        event.preventDefault();
        return;
      }
      if (button) pending.showAction(button);
      if (!message || !live.socket.connected) return;
      event.preventDefault();
      showError(page, '');
      live.socket.send({ type: message, id: live.nextId(), game: page.gameId });
    });
  }
}

/** Hint: asks the server (which refuses it in games against people) and marks the cell. */
export function wireHint(page: GamePage): void {
  const hintLink = page.root.querySelector<HTMLAnchorElement>('#hint-link');
  hintLink?.addEventListener('click', async (event) => {
    event.preventDefault();
    hintLink.setAttribute('aria-busy', 'true');
    try {
      const res = await fetch(`/games/${page.gameId}/hint`, { headers: { Accept: 'application/json' } });
      if (!res.ok) return showError(page, 'No hint is available right now.');
      const { cell, text } = (await res.json()) as { cell: number; text: string };
      for (const button of page.cells) button.toggleAttribute('data-hint', Number(button.dataset.cell) === cell);
      page.detail.textContent = text;
      announce(page, text);
    } catch {
      showError(page, 'The hint could not be fetched. Check your connection and try again.');
    } finally {
      hintLink.removeAttribute('aria-busy');
    }
  });
}

/** Copy puts the invite link on the clipboard, or selects it where the clipboard is refused. */
export function wireInviteCopy(page: GamePage): void {
  const copy = page.root.querySelector<HTMLButtonElement>('#copy-invite');
  const link = page.root.querySelector<HTMLInputElement>('#invite-link');
  copy?.addEventListener('click', async () => {
    if (!link) return;
    try {
      await navigator.clipboard.writeText(link.value);
      copy.textContent = 'Copied';
      announce(page, 'Invite link copied.');
    } catch {
      link.select();
      copy.textContent = 'Press Ctrl+C to copy';
      announce(page, 'The link is selected: press Ctrl+C to copy it.');
    }
    window.setTimeout(() => (copy.textContent = 'Copy'), 2000);
  });
}
