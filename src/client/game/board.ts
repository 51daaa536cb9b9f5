/**
 * Playing a square. A click on a playable cell sends the move over the socket (without a
 * connection the board form posts as usual); a cell that cannot be played now refuses the click
 * and says why in the error box.
 */
import type { Mark } from '../../game/variants/types.js';
import type { Grid } from './grid.js';
import type { LiveGame } from './live.js';
import { renderedMark, showError, type GamePage } from './page.js';
import type { Pending } from './pending.js';

/**
 * Why a square that cannot be played now does nothing, in words ('' to say nothing). `where` is
 * the page's "You play in board 3, top right." line (Ultimate), empty elsewhere.
 */
export function refusal(status: string, you: Mark | null, taken: boolean, where = ''): string {
  if (!you) return status === 'waiting' ? 'Join the game to play.' : 'You are watching this game.';
  if (status === 'waiting') return 'The game starts when your opponent joins.';
  if (['won', 'lost', 'draw', 'aborted'].includes(status)) return 'The game is over.';
  if (taken) return 'That square is taken. Choose an empty one.';
  if (status === 'their-turn') return 'It is not your turn yet.';
  if (status === 'your-turn' && where) return `Not that board: ${where.charAt(0).toLowerCase()}${where.slice(1)}`;
  return '';
}

export function wireBoard(page: GamePage, grid: Grid, pending: Pending, live: LiveGame): void {
  const you = () => (live.view ? live.view.you : renderedMark(page));

  // A cell that cannot be played now refuses the click (it is aria-disabled, not disabled).
  page.board.addEventListener(
    'click',
    (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button[data-cell]');
      if (!button || grid.isPlayable(button)) return;
      event.preventDefault();
      event.stopPropagation();
      // While a move is on its way, the square shows it: nothing to say.
      if (pending.cell) return;
      const where = (page.root.querySelector('#game-where')?.textContent ?? '').trim();
      const reason = refusal(page.status.dataset.status ?? '', you(), (button.textContent ?? '').trim() !== '', where);
      if (reason) showError(page, reason);
    },
    true,
  );

  page.boardForm.addEventListener('submit', (event) => {
    const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null;
    if (submitter && !grid.isPlayable(submitter)) {
      event.preventDefault();
      return;
    }
    const cell = Number(submitter?.dataset.cell);
    if (!submitter || Number.isNaN(cell)) return;
    showError(page, '');
    // Within a frame, whether the move goes over the socket or as a form post.
    pending.showMove(submitter, you());
    if (!live.socket.connected) return; // The form posts: the page that comes back shows the move.
    event.preventDefault();
    live.socket.send({ type: 'move', id: live.nextId(), game: page.gameId, ply: Number(page.plyInput.value), cell });
    pending.expireMove(submitter);
  });
}
