/**
 * Draws a GameView (from viewGame in src/game/view.ts, the function the server rendered the page
 * with) onto the page: status, board, players, moves, replay steps, actions. It never moves the
 * focus and says nothing: the announcer speaks (see announcer.ts).
 */
import type { GameView } from '../../game/view.js';
import { renderActions } from './actions.js';
import type { Grid } from './grid.js';
import { renderMoves } from './moves.js';
import type { GamePage } from './page.js';
import type { Pending } from './pending.js';

const SITE = 'Tic-Tac-Toe Online';

export function render(page: GamePage, view: GameView, grid: Grid, pending: Pending): void {
  renderStatus(page, view);
  // A pending move stays pending until the state that carries it (or a refusal) arrives.
  renderBoard(page, view, grid, pending.keepFor(view));
  renderPlayers(page.root, view);
  renderMoves(page.movesList, page.moveTemplate, view.moves);
  renderReplay(page, view);
  renderActions(page, view);
  pending.clearAction();
}

/** The status and detail lines, the tab's title and icon, and the ply the board form sends. */
function renderStatus(page: GamePage, view: GameView) {
  page.status.dataset.status = view.status;
  if (page.status.textContent !== view.statusText) page.status.textContent = view.statusText;
  page.detail.textContent = view.detail;
  const where = page.root.querySelector<HTMLElement>('#game-where');
  if (where) {
    where.textContent = view.where;
    where.hidden = !view.where;
  }
  document.title = `${view.title} · ${SITE}`;
  if (page.icon) page.icon.href = view.status === 'your-turn' ? page.icon.dataset.turnHref! : page.plainIcon;
  page.plyInput.value = String(view.ply);
}

/** The squares; while a move is pending none of them can be played. */
function renderBoard(page: GamePage, view: GameView, grid: Grid, movePending: boolean) {
  view.cells.forEach((cell, i) => {
    const button = page.cells[i]!;
    if (button.textContent !== cell.mark) button.textContent = cell.mark;
    button.setAttribute('aria-label', cell.label);
    grid.setPlayable(button, cell.playable && !movePending);
    button.className = `cell${cell.mark ? ` mark-${cell.mark.toLowerCase()}` : ''}`;
    button.toggleAttribute('data-win', cell.win);
    button.toggleAttribute('data-last', cell.last);
    button.toggleAttribute('data-active', cell.active);
    if (cell.areaOwner && view.size > 3) button.dataset.owner = cell.areaOwner;
    else button.removeAttribute('data-owner');
    button.removeAttribute('data-hint');
  });
  grid.settleTabStop();
}

function renderPlayers(root: HTMLElement, view: GameView) {
  for (const player of view.players) {
    const item = root.querySelector<HTMLElement>(`[data-player="${player.mark}"]`);
    if (!item) continue;
    item.querySelector('.player-name')!.textContent = player.name;
    item.querySelector<HTMLElement>('.player-you')!.hidden = !player.you;
    item.querySelector<HTMLElement>('.player-away')!.hidden = !player.away;
    item.toggleAttribute('data-turn', player.turn);
  }
}

/** Once the game is over, the replay steps appear (links that load positions as plain pages). */
function renderReplay(page: GamePage, view: GameView) {
  const nav = page.root.querySelector<HTMLElement>('#replay');
  if (!nav || !view.replay) return;
  const { ply, total } = view.replay;
  nav.hidden = false;
  page.root.querySelector('#replay-position')!.textContent = `Move ${ply} of ${total}`;
  const targets: Record<string, [number, boolean]> = {
    First: [0, ply > 0],
    Previous: [ply - 1, ply > 0],
    Next: [ply + 1, ply < total],
    Last: [total, ply < total],
  };
  for (const step of nav.querySelectorAll<HTMLElement>('[data-replay]')) {
    const [target, enabled] = targets[step.dataset.replay!]!;
    const href = `/games/${page.gameId}?ply=${target}`;
    const isLink = step.tagName === 'A';
    if (isLink === enabled && (!enabled || step.getAttribute('href') === href)) continue;
    step.replaceWith(replayStep(step, enabled ? href : null));
  }
}

/** A replay step as a link to `href`, or as a disabled step when there is nowhere to go. */
function replayStep(step: HTMLElement, href: string | null): HTMLElement {
  const element = document.createElement(href ? 'a' : 'span');
  element.className = step.className;
  element.dataset.replay = step.dataset.replay!;
  element.textContent = step.textContent;
  if (href) (element as HTMLAnchorElement).href = href;
  else element.setAttribute('aria-disabled', 'true');
  return element;
}
