/**
 * Upgrades the game page to live play. The page works without this script (every action is a
 * form); with it, moves and actions go over the WebSocket and every state the server sends is
 * drawn with the same view function the server used to render the page.
 */
import type { GameState } from '../game/model.js';
import type { ServerMessage } from '../game/protocol.js';
import { viewGame, type GameView, type MoveView } from '../game/view.js';
import { connectLive } from './socket.js';

const root = document.getElementById('game');
if (root) start(root);

function start(root: HTMLElement) {
  const gameId = root.dataset.game!;
  const viewerId = root.dataset.viewer ? Number(root.dataset.viewer) : null;
  let version = Number(root.dataset.version);
  let state: GameState | null = null;
  /** Server clock minus ours, so countdowns agree with the server. */
  let clockOffset = 0;
  let requestCounter = 0;
  let pendingCell: HTMLButtonElement | null = null;
  let countdown: number | undefined;

  const $ = <T extends HTMLElement>(selector: string) => root.querySelector<T>(selector);
  const status = $('#game-status')!;
  const detail = $('#game-detail')!;
  const errorBox = $('#game-error')!;
  const cells = [...root.querySelectorAll<HTMLButtonElement>('button[data-cell]')];
  const plyInput = $<HTMLInputElement>('input[name="ply"]')!;
  const movesList = $('#moves')!;

  const socket = connectLive(
    (live) => live.send({ type: 'subscribe', game: gameId, version }),
    onMessage,
  );

  function showError(message: string) {
    errorBox.textContent = message;
    errorBox.hidden = message === '';
  }

  function render(view: GameView) {
    status.dataset.status = view.status;
    if (status.textContent !== view.statusText) status.textContent = view.statusText;
    detail.textContent = view.detail;
    document.title = `${view.title} · Tic-Tac-Toe Online`;
    plyInput.value = String(view.ply);
    view.cells.forEach((cell, i) => {
      const button = cells[i]!;
      button.textContent = cell.mark;
      button.setAttribute('aria-label', cell.label);
      button.disabled = !cell.playable;
      button.className = `cell${cell.mark ? ` mark-${cell.mark.toLowerCase()}` : ''}`;
      button.toggleAttribute('data-win', cell.win);
      button.toggleAttribute('data-last', cell.last);
      button.removeAttribute('aria-busy');
      button.removeAttribute('data-hint');
    });
    pendingCell = null;
    for (const player of view.players) {
      const item = root.querySelector<HTMLElement>(`[data-player="${player.mark}"]`);
      if (!item) continue;
      item.querySelector('.player-name')!.textContent = player.name;
      item.querySelector<HTMLElement>('.player-you')!.hidden = !player.you;
      item.querySelector<HTMLElement>('.player-away')!.hidden = !player.away;
    }
    const movesKey = JSON.stringify(view.moves);
    if (movesList.dataset.key !== movesKey) {
      movesList.dataset.key = movesKey;
      movesList.replaceChildren(...view.moves.map(moveItem));
    }
    renderReplay(view);
    const hintLink = $<HTMLAnchorElement>('#hint-link');
    if (hintLink) hintLink.hidden = !view.canHint;
    const shown: Record<string, boolean> = {
      'Join game': view.canJoin,
      Resign: view.canResign,
      'Cancel game': view.canCancel,
      'Claim victory': view.canClaim,
      Rematch: view.canRematch,
    };
    for (const form of root.querySelectorAll<HTMLFormElement>('form[data-action]')) {
      form.hidden = !shown[form.dataset.action!];
    }
    const rematchLink = $<HTMLAnchorElement>('#rematch-link');
    if (rematchLink) {
      rematchLink.hidden = !view.rematchId;
      if (view.rematchId) rematchLink.href = `/games/${view.rematchId}`;
    }
    const invite = $('#invite');
    if (invite) invite.hidden = !view.showInvite;
  }

  /** The same markup as views/partials/move.ejs. */
  function moveItem(move: MoveView): HTMLLIElement {
    const li = document.createElement('li');
    li.textContent = move.text;
    if (move.mistake) li.className = 'mistake';
    if (move.verdict) {
      const verdict = document.createElement('span');
      verdict.className = 'verdict';
      verdict.textContent = ` — ${move.verdict}`;
      li.append(verdict);
    }
    if (move.firstMistake) {
      li.dataset.firstMistake = '';
      const badge = document.createElement('strong');
      badge.className = 'first-mistake';
      badge.textContent = 'First mistake';
      li.append(' ', badge);
    }
    return li;
  }

  /** Once the game is over, the replay links appear (they load positions as plain pages). */
  function renderReplay(view: GameView) {
    const nav = $('#replay');
    if (!nav || !view.replay) return;
    const { ply, total } = view.replay;
    nav.hidden = false;
    $('#replay-position')!.textContent = `Move ${ply} of ${total}`;
    const targets: Record<string, [number, boolean]> = {
      First: [0, ply > 0],
      Previous: [ply - 1, ply > 0],
      Next: [ply + 1, ply < total],
      Last: [total, ply < total],
    };
    for (const step of nav.querySelectorAll<HTMLElement>('[data-replay]')) {
      const [target, enabled] = targets[step.dataset.replay!]!;
      const element = document.createElement(enabled ? 'a' : 'span');
      element.className = step.className;
      element.dataset.replay = step.dataset.replay!;
      element.textContent = step.textContent;
      if (enabled) (element as HTMLAnchorElement).href = `/games/${gameId}?ply=${target}`;
      else element.setAttribute('aria-disabled', 'true');
      step.replaceWith(element);
    }
  }

  function redraw() {
    if (!state) return;
    const view = viewGame(state, viewerId, Date.now() + clockOffset);
    render(view);
    // Tick once a second while a Claim victory countdown runs.
    window.clearTimeout(countdown);
    if (view.claimAt !== null && !view.canClaim) countdown = window.setTimeout(redraw, 1000);
  }

  /** Navigates once: the ack and the state of an accepted rematch both say where to go. */
  let leaving = false;
  function goToGame(id: string) {
    if (leaving) return;
    leaving = true;
    location.assign(`/games/${id}`);
  }

  function onMessage(message: ServerMessage) {
    if (leaving) return;
    if (message.type === 'state') {
      if (message.game.id !== gameId || message.game.version < version) return;
      clockOffset = message.now - Date.now();
      version = message.game.version;
      state = message.game;
      // Both players of a finished game go to the rematch once it exists.
      if (state.rematch.nextId && viewerId !== null && (state.players.X?.id === viewerId || state.players.O?.id === viewerId)) {
        goToGame(state.rematch.nextId);
        return;
      }
      redraw();
    } else if (message.type === 'error') {
      showError(message.message);
      if (pendingCell) {
        pendingCell.removeAttribute('aria-busy');
        pendingCell = null;
      }
      redraw();
    } else if (message.type === 'ack') {
      showError('');
      if (message.rematchId) goToGame(message.rematchId);
    }
  }

  const nextId = () => `r${++requestCounter}`;

  // A click on a cell sends the move over the socket; without a connection the form posts as usual.
  root.querySelector('#board-form')!.addEventListener('submit', (event) => {
    const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null;
    const cell = Number(submitter?.dataset.cell);
    if (!socket.connected || !submitter || Number.isNaN(cell)) return;
    event.preventDefault();
    showError('');
    pendingCell = submitter;
    submitter.setAttribute('aria-busy', 'true');
    for (const button of cells) button.disabled = true;
    socket.send({ type: 'move', id: nextId(), game: gameId, ply: Number(plyInput.value), cell });
  });

  const actionTypes: Record<string, 'resign' | 'claim' | 'rematch'> = {
    Resign: 'resign',
    'Cancel game': 'resign',
    'Claim victory': 'claim',
    Rematch: 'rematch',
  };
  for (const form of root.querySelectorAll<HTMLFormElement>('form[data-action]')) {
    const type = actionTypes[form.dataset.action!];
    if (!type) continue; // Join reloads the page as a player: a plain form post is right.
    form.addEventListener('submit', (event) => {
      if (!socket.connected) return;
      event.preventDefault();
      showError('');
      socket.send({ type, id: nextId(), game: gameId });
    });
  }

  // Hint: asks the server (which refuses it in games against people) and marks the cell.
  $<HTMLAnchorElement>('#hint-link')?.addEventListener('click', async (event) => {
    event.preventDefault();
    const res = await fetch(`/games/${gameId}/hint`, { headers: { Accept: 'application/json' } });
    if (!res.ok) return showError('No hint is available right now.');
    const { cell, text } = (await res.json()) as { cell: number; text: string };
    for (const button of cells) button.toggleAttribute('data-hint', Number(button.dataset.cell) === cell);
    detail.textContent = text;
  });

  const copy = $<HTMLButtonElement>('#copy-invite');
  const link = $<HTMLInputElement>('#invite-link');
  copy?.addEventListener('click', async () => {
    if (!link) return;
    try {
      await navigator.clipboard.writeText(link.value);
      copy.textContent = 'Copied';
    } catch {
      link.select();
      copy.textContent = 'Press Ctrl+C to copy';
    }
    window.setTimeout(() => (copy.textContent = 'Copy'), 2000);
  });
}
