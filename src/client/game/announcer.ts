/**
 * Screen readers: one polite live region (#announcer) hears exactly one message per change, built
 * by `announcement` in view.ts ("O played row 2, column 3. Your turn."). The status element keeps
 * role=status for the UI contract but has aria-live=off so nothing is said twice; refusals go to
 * the error box (role=alert).
 */
import { announced, announcement, detailKey, type Announced, type GameView } from '../../game/view.js';
import type { AreaOwner } from '../../game/variants/types.js';
import { announce, type GamePage } from './page.js';

/** Says what changed since the last view it heard; the first one is the page the server rendered. */
export function changeAnnouncer(page: GamePage): (view: GameView) => void {
  let heard: Announced = {
    moves: page.movesList.children.length,
    statusText: (page.status.textContent ?? '').trim(),
    detail: detailKey((page.detail.textContent ?? '').trim()),
    names: [...page.root.querySelectorAll('[data-player] .player-name')].map((n) => (n.textContent ?? '').trim()),
    owners: page.board.dataset.owners?.split(',').map((o) => (o === '' ? null : (o as AreaOwner))) ?? [],
  };
  return (view) => {
    const message = announcement(heard, view);
    heard = announced(view);
    announce(page, message);
  };
}
