/**
 * Pending feedback: a pressed square or action button shows at once (aria-busy, the mark faint
 * and pulsing), stays so until the state that carries it arrives, and is rolled back with the
 * reason when the server refuses it, does not answer in time, or the connection is lost.
 */
import type { Mark } from '../../game/variants/types.js';
import type { GameView } from '../../game/view.js';
import type { Grid } from './grid.js';
import { showError, type GamePage } from './page.js';

/** A move with no answer after this long is rolled back with a message. */
export const MOVE_TIMEOUT_MS = 8_000;

/** The pending move and action of the page. `redraw` draws the last state again (false before one arrived). */
export class Pending {
  private move: HTMLButtonElement | null = null;
  private timer: number | undefined;
  private action: HTMLButtonElement | null = null;

  constructor(
    private readonly page: GamePage,
    private readonly grid: Grid,
    private readonly redraw: () => boolean,
  ) {}

  /** The square whose move is on its way, if any. */
  get cell(): HTMLButtonElement | null {
    return this.move;
  }

  /** Shows a move at once: the viewer's mark shows faintly and pulses; no other square can be played. */
  showMove(button: HTMLButtonElement, you: Mark | null): void {
    this.move = button;
    button.setAttribute('aria-busy', 'true');
    if (you) button.dataset.pending = you;
    this.page.board.setAttribute('aria-busy', 'true');
    for (const other of this.page.cells) this.grid.setPlayable(other, false);
  }

  /** Rolls the move back if the server has not answered it in MOVE_TIMEOUT_MS. */
  expireMove(button: HTMLButtonElement): void {
    this.timer = window.setTimeout(() => {
      if (this.move === button) this.rollBack('The server did not answer in time. Your move was not played; try again.');
    }, MOVE_TIMEOUT_MS);
  }

  /** Whether the pending move is still on its way in `view`; it ends when the view carries it. */
  keepFor(view: GameView): boolean {
    const index = this.move ? this.page.cells.indexOf(this.move) : -1;
    const still = index >= 0 && view.status === 'your-turn' && view.cells[index]!.mark === '';
    if (!still) this.clearMove();
    return still;
  }

  /** Ends the pending move, puts the message in the error box and draws the board again. */
  rollBack(message: string): void {
    this.clearMove();
    showError(this.page, message);
    if (this.redraw()) return;
    for (const button of this.page.cells) this.grid.setPlayable(button, !(button.textContent ?? '').trim());
  }

  /** Shows an action button as pressed (busy, and not to be pressed twice). */
  showAction(button: HTMLButtonElement): void {
    button.setAttribute('aria-busy', 'true');
    button.setAttribute('aria-disabled', 'true');
    this.action = button;
  }

  clearAction(): void {
    if (!this.action) return;
    this.action.removeAttribute('aria-busy');
    this.action.removeAttribute('aria-disabled');
    this.action = null;
  }

  private clearMove() {
    window.clearTimeout(this.timer);
    if (!this.move) return;
    this.move.removeAttribute('aria-busy');
    this.move.removeAttribute('data-pending');
    this.page.board.removeAttribute('aria-busy');
    this.move = null;
  }
}
