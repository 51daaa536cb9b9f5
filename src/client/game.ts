/**
 * Upgrades the game page to live play. The page works without this script (every action is a
 * form); with it, moves and actions go over the WebSocket and every state the server sends is
 * drawn with the same view function the server used to render the page.
 *
 * Keyboard: the board is an ARIA grid with a roving tabindex (one cell in the tab order, arrow keys
 * move, Home/End go to the ends of a row, Ctrl+Home/End to the corners, Enter or Space plays).
 * Cells that cannot be played now are aria-disabled rather than disabled, so they keep focus and
 * can be explored; a live update never moves the focus.
 *
 * Screen readers: one polite live region (#announcer) hears exactly one message per change, built
 * by `announcement` in view.ts ("O played row 2, column 3. Your turn."). The status element keeps
 * role=status for the UI contract but has aria-live=off so nothing is said twice; refusals go to
 * the error box (role=alert).
 */
import type { GameState } from '../game/model.js';
import type { ServerMessage } from '../game/protocol.js';
import { announcement, detailKey, viewGame, type Announced, type GameView, type MoveView } from '../game/view.js';
import { connectLive } from './socket.js';

const SITE = 'Tic-Tac-Toe Online';
/** A move with no answer after this long is rolled back with a message. */
const MOVE_TIMEOUT_MS = 8_000;

const root = document.getElementById('game');
if (root) start(root);

function start(root: HTMLElement) {
  const gameId = root.dataset.game!;
  const viewerId = root.dataset.viewer ? Number(root.dataset.viewer) : null;
  let version = Number(root.dataset.version);
  let state: GameState | null = null;
  let lastView: GameView | null = null;
  /** Server clock minus ours, so countdowns agree with the server. */
  let clockOffset = 0;
  let requestCounter = 0;
  let pendingCell: HTMLButtonElement | null = null;
  let pendingTimer: number | undefined;
  let pendingAction: HTMLButtonElement | null = null;
  let countdown: number | undefined;

  const $ = <T extends HTMLElement>(selector: string) => root.querySelector<T>(selector);
  const status = $('#game-status')!;
  const detail = $('#game-detail')!;
  const errorBox = $('#game-error')!;
  const grid = $('#board')!;
  const cells = [...root.querySelectorAll<HTMLButtonElement>('button[data-cell]')];
  const plyInput = $<HTMLInputElement>('input[name="ply"]')!;
  const movesList = $('#moves')!;
  const announcer = $('#announcer');
  const icon = document.querySelector<HTMLLinkElement>('link[rel="icon"][data-turn-href]');
  const plainIcon = icon?.href ?? '';

  /** What the page said last, as the server rendered it: later changes are announced from here. */
  let heard: Announced = {
    moves: movesList.children.length,
    statusText: (status.textContent ?? '').trim(),
    detail: detailKey((detail.textContent ?? '').trim()),
    names: [...root.querySelectorAll('[data-player] .player-name')].map((n) => (n.textContent ?? '').trim()),
  };

  function announce(message: string) {
    if (!announcer || !message) return;
    // A new node each time, so the same words twice in a row are still spoken.
    const line = document.createElement('p');
    line.textContent = message;
    announcer.replaceChildren(line);
  }

  function showError(message: string) {
    errorBox.textContent = message;
    errorBox.hidden = message === '';
  }

  // ---- The board as a grid: roving tabindex, arrow keys, aria-disabled ----------------------

  /** The cell that holds the grid's one tab stop. */
  let active = 0;
  /** Once the person has been on the board, the tab stop stays where they left it. */
  let visited = false;

  function setActive(index: number, focus: boolean) {
    active = index;
    cells.forEach((button, i) => (button.tabIndex = i === index ? 0 : -1));
    if (focus) cells[index]!.focus();
  }

  const isPlayable = (button: HTMLButtonElement) => button.getAttribute('aria-disabled') !== 'true';

  function setPlayable(button: HTMLButtonElement, playable: boolean) {
    button.disabled = false;
    if (playable) button.removeAttribute('aria-disabled');
    else button.setAttribute('aria-disabled', 'true');
  }

  // The server rendered `disabled` for the no-script form; from here on, aria-disabled.
  for (const button of cells) setPlayable(button, !button.disabled);
  const firstPlayable = () => Math.max(0, cells.findIndex(isPlayable));
  setActive(firstPlayable(), false);
  const help = $('#board-help');
  if (help) {
    help.hidden = false;
    grid.setAttribute('aria-describedby', help.id);
  }

  grid.addEventListener('focusin', (event) => {
    const index = cells.indexOf(event.target as HTMLButtonElement);
    if (index < 0) return;
    visited = true;
    if (index !== active) setActive(index, false);
  });

  grid.addEventListener('keydown', (event) => {
    const index = cells.indexOf(event.target as HTMLButtonElement);
    if (index < 0 || event.altKey || event.metaKey) return;
    const row = Math.floor(index / 3);
    const col = index % 3;
    let next: number;
    switch (event.key) {
      case 'ArrowRight':
        next = row * 3 + Math.min(2, col + 1);
        break;
      case 'ArrowLeft':
        next = row * 3 + Math.max(0, col - 1);
        break;
      case 'ArrowDown':
        next = Math.min(2, row + 1) * 3 + col;
        break;
      case 'ArrowUp':
        next = Math.max(0, row - 1) * 3 + col;
        break;
      case 'Home':
        next = event.ctrlKey ? 0 : row * 3;
        break;
      case 'End':
        next = event.ctrlKey ? 8 : row * 3 + 2;
        break;
      default:
        return;
    }
    event.preventDefault();
    setActive(next, true);
  });

  /** Why a cell that cannot be played now does nothing, in words. */
  function refusal(button: HTMLButtonElement): string {
    if (pendingCell) return ''; // The move just sent is on its way; the square shows it.
    const now = status.dataset.status ?? '';
    const you = lastView ? lastView.you : viewerMark();
    const taken = (button.textContent ?? '').trim() !== '';
    if (!you) return now === 'waiting' ? 'Join the game to play.' : 'You are watching this game.';
    if (now === 'waiting') return 'The game starts when your opponent joins.';
    if (['won', 'lost', 'draw', 'aborted'].includes(now)) return 'The game is over.';
    if (taken) return 'That square is taken. Choose an empty one.';
    if (now === 'their-turn') return 'It is not your turn yet.';
    return '';
  }

  // ---- Drawing a state -------------------------------------------------------------------------

  function render(view: GameView) {
    lastView = view;
    status.dataset.status = view.status;
    if (status.textContent !== view.statusText) status.textContent = view.statusText;
    detail.textContent = view.detail;
    const yourTurn = view.status === 'your-turn';
    document.title = `${view.title} · ${SITE}`;
    if (icon) icon.href = yourTurn ? icon.dataset.turnHref! : plainIcon;
    plyInput.value = String(view.ply);

    // A pending move stays pending until the state that carries it (or a refusal) arrives.
    const pendingIndex = pendingCell ? cells.indexOf(pendingCell) : -1;
    const stillPending = pendingIndex >= 0 && yourTurn && view.cells[pendingIndex]!.mark === '';
    if (!stillPending) clearPending();

    view.cells.forEach((cell, i) => {
      const button = cells[i]!;
      if (button.textContent !== cell.mark) button.textContent = cell.mark;
      button.setAttribute('aria-label', cell.label);
      setPlayable(button, cell.playable && !stillPending);
      button.className = `cell${cell.mark ? ` mark-${cell.mark.toLowerCase()}` : ''}`;
      button.toggleAttribute('data-win', cell.win);
      button.toggleAttribute('data-last', cell.last);
      button.removeAttribute('data-hint');
    });
    // Until the person has been on the board, its tab stop is the first square they can play.
    if (!visited && !grid.contains(document.activeElement)) setActive(firstPlayable(), false);

    for (const player of view.players) {
      const item = root.querySelector<HTMLElement>(`[data-player="${player.mark}"]`);
      if (!item) continue;
      item.querySelector('.player-name')!.textContent = player.name;
      item.querySelector<HTMLElement>('.player-you')!.hidden = !player.you;
      item.querySelector<HTMLElement>('.player-away')!.hidden = !player.away;
      item.toggleAttribute('data-turn', player.turn);
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
    clearPendingAction();
    const rematchLink = $<HTMLAnchorElement>('#rematch-link');
    if (rematchLink) {
      rematchLink.hidden = !view.rematchId;
      if (view.rematchId) rematchLink.href = `/games/${view.rematchId}`;
    }
    const invite = $('#invite');
    if (invite) invite.hidden = !view.showInvite;

    const message = announcement(heard, view);
    heard = { moves: view.moves.length, statusText: view.statusText, detail: detailKey(view.detail), names: view.players.map((p) => p.name) };
    announce(message);
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
      const isLink = step.tagName === 'A';
      if (isLink === enabled && (!enabled || step.getAttribute('href') === `/games/${gameId}?ply=${target}`)) continue;
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

  // ---- Pending feedback: shown at once, rolled back when refused -------------------------------

  function clearPending() {
    window.clearTimeout(pendingTimer);
    if (!pendingCell) return;
    pendingCell.removeAttribute('aria-busy');
    pendingCell.removeAttribute('data-pending');
    grid.removeAttribute('aria-busy');
    pendingCell = null;
  }

  function rollBack(message: string) {
    clearPending();
    showError(message);
    if (state) redraw();
    else for (const button of cells) setPlayable(button, !(button.textContent ?? '').trim());
  }

  function clearPendingAction() {
    if (!pendingAction) return;
    pendingAction.removeAttribute('aria-busy');
    pendingAction.removeAttribute('aria-disabled');
    pendingAction = null;
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
        announce('Rematch accepted. Opening the new game.');
        goToGame(state.rematch.nextId);
        return;
      }
      redraw();
    } else if (message.type === 'error') {
      clearPendingAction();
      if (pendingCell) rollBack(message.message);
      else {
        showError(message.message);
        redraw();
      }
    } else if (message.type === 'ack') {
      showError('');
      clearPendingAction();
      if (message.rematchId) goToGame(message.rematchId);
    }
  }

  const socket = connectLive(
    (live) => live.send({ type: 'subscribe', game: gameId, version }),
    onMessage,
    (change) => {
      if (change === 'lost') {
        if (pendingCell) rollBack('The connection was lost before your move arrived. Try again once it is back.');
        announce('Connection lost. Reconnecting…');
      } else if (change === 'restored') {
        announce('Connected again.');
      } else if (change === 'signed-out') {
        if (pendingCell) rollBack('You have been signed out, so your move was not made.');
        announce('You have been signed out. Reload the page to continue.');
      }
    },
    viewerId !== null,
  );

  /** The viewer's mark as the server rendered it, before the first live state. */
  function viewerMark(): string | null {
    const item = root.querySelector<HTMLElement>('[data-player]:has(.player-you:not([hidden]))');
    return item?.dataset.player ?? null;
  }

  const nextId = () => `r${++requestCounter}`;

  // A cell that cannot be played now refuses the click (it is aria-disabled, not disabled).
  grid.addEventListener(
    'click',
    (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button[data-cell]');
      if (!button || isPlayable(button)) return;
      event.preventDefault();
      event.stopPropagation();
      const reason = refusal(button);
      if (reason) showError(reason);
    },
    true,
  );

  // A click on a cell sends the move over the socket; without a connection the form posts as usual.
  root.querySelector('#board-form')!.addEventListener('submit', (event) => {
    const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null;
    if (submitter && !isPlayable(submitter)) {
      event.preventDefault();
      return;
    }
    const cell = Number(submitter?.dataset.cell);
    if (!submitter || Number.isNaN(cell)) return;
    showError('');
    // Within a frame: the mark shows faintly and pulses, and no other square can be played.
    pendingCell = submitter;
    submitter.setAttribute('aria-busy', 'true');
    const you = lastView ? lastView.you : viewerMark();
    if (you) submitter.dataset.pending = you;
    grid.setAttribute('aria-busy', 'true');
    for (const button of cells) setPlayable(button, false);
    if (!socket.connected) return; // The form posts: the page that comes back shows the move.
    event.preventDefault();
    socket.send({ type: 'move', id: nextId(), game: gameId, ply: Number(plyInput.value), cell });
    pendingTimer = window.setTimeout(() => {
      if (pendingCell === submitter) rollBack('The server did not answer in time. Your move was not played; try again.');
    }, MOVE_TIMEOUT_MS);
  });

  const actionTypes: Record<string, 'resign' | 'claim' | 'rematch'> = {
    Resign: 'resign',
    'Cancel game': 'resign',
    'Claim victory': 'claim',
    Rematch: 'rematch',
  };
  for (const form of root.querySelectorAll<HTMLFormElement>('form[data-action]')) {
    const type = actionTypes[form.dataset.action!];
    const button = form.querySelector<HTMLButtonElement>('button');
    form.addEventListener('submit', (event) => {
      if (button?.getAttribute('aria-disabled') === 'true') {
        event.preventDefault();
        return;
      }
      // Pressed: shown at once, whether it goes over the socket or as a form post.
      if (button) {
        button.setAttribute('aria-busy', 'true');
        button.setAttribute('aria-disabled', 'true');
        pendingAction = button;
      }
      if (!type || !socket.connected) return; // Join reloads the page as a player: a plain form post is right.
      event.preventDefault();
      showError('');
      socket.send({ type, id: nextId(), game: gameId });
    });
  }

  // Hint: asks the server (which refuses it in games against people) and marks the cell.
  const hintLink = $<HTMLAnchorElement>('#hint-link');
  hintLink?.addEventListener('click', async (event) => {
    event.preventDefault();
    hintLink.setAttribute('aria-busy', 'true');
    try {
      const res = await fetch(`/games/${gameId}/hint`, { headers: { Accept: 'application/json' } });
      if (!res.ok) return showError('No hint is available right now.');
      const { cell, text } = (await res.json()) as { cell: number; text: string };
      for (const button of cells) button.toggleAttribute('data-hint', Number(button.dataset.cell) === cell);
      detail.textContent = text;
      announce(text);
    } catch {
      showError('The hint could not be fetched. Check your connection and try again.');
    } finally {
      hintLink.removeAttribute('aria-busy');
    }
  });

  const copy = $<HTMLButtonElement>('#copy-invite');
  const link = $<HTMLInputElement>('#invite-link');
  copy?.addEventListener('click', async () => {
    if (!link) return;
    try {
      await navigator.clipboard.writeText(link.value);
      copy.textContent = 'Copied';
      announce('Invite link copied.');
    } catch {
      link.select();
      copy.textContent = 'Press Ctrl+C to copy';
      announce('The link is selected: press Ctrl+C to copy it.');
    }
    window.setTimeout(() => (copy.textContent = 'Copy'), 2000);
  });
}
