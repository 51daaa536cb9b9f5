/**
 * The board as an ARIA grid, for the keyboard: a roving tabindex keeps one cell in the tab order,
 * arrow keys move, Home/End go to the ends of a row, Ctrl+Home/End to the corners. Enter or Space
 * plays (the cells are buttons). Cells that cannot be played now are aria-disabled rather than
 * disabled, so they keep focus and can be explored; a live update never moves the focus.
 */

export interface Grid {
  isPlayable(button: HTMLButtonElement): boolean;
  setPlayable(button: HTMLButtonElement, playable: boolean): void;
  /**
   * Until the person has been on the board, its tab stop follows the first square they can play;
   * once they have, it stays where they left it.
   */
  settleTabStop(): void;
}

const isPlayable = (button: HTMLButtonElement) => button.getAttribute('aria-disabled') !== 'true';

function setPlayable(button: HTMLButtonElement, playable: boolean) {
  button.disabled = false;
  if (playable) button.removeAttribute('aria-disabled');
  else button.setAttribute('aria-disabled', 'true');
}

/** Where a key press moves from cell `index` on a `size`×`size` board, or null for other keys. */
export function keyTarget(index: number, key: string, ctrl: boolean, size = 3): number | null {
  const row = Math.floor(index / size);
  const col = index % size;
  const last = size - 1;
  switch (key) {
    case 'ArrowRight':
      return row * size + Math.min(last, col + 1);
    case 'ArrowLeft':
      return row * size + Math.max(0, col - 1);
    case 'ArrowDown':
      return Math.min(last, row + 1) * size + col;
    case 'ArrowUp':
      return Math.max(0, row - 1) * size + col;
    case 'Home':
      return ctrl ? 0 : row * size;
    case 'End':
      return ctrl ? size * size - 1 : row * size + last;
    default:
      return null;
  }
}

/** Takes over the board the server rendered (with `disabled` for the no-script form). */
export function boardGrid(board: HTMLElement, cells: HTMLButtonElement[], help: HTMLElement | null): Grid {
  /** The cell that holds the grid's one tab stop. */
  let active = 0;
  /** Once the person has been on the board, the tab stop stays where they left it. */
  let visited = false;

  function setActive(index: number, focus: boolean) {
    active = index;
    cells.forEach((button, i) => (button.tabIndex = i === index ? 0 : -1));
    if (focus) cells[index]!.focus();
  }
  const firstPlayable = () => Math.max(0, cells.findIndex(isPlayable));

  // From here on, aria-disabled instead of disabled.
  for (const button of cells) setPlayable(button, !button.disabled);
  setActive(firstPlayable(), false);
  if (help) {
    help.hidden = false;
    board.setAttribute('aria-describedby', help.id);
  }

  board.addEventListener('focusin', (event) => {
    const index = cells.indexOf(event.target as HTMLButtonElement);
    if (index < 0) return;
    visited = true;
    if (index !== active) setActive(index, false);
  });

  board.addEventListener('keydown', (event) => {
    const index = cells.indexOf(event.target as HTMLButtonElement);
    if (index < 0 || event.altKey || event.metaKey) return;
    const next = keyTarget(index, event.key, event.ctrlKey, Number(board.dataset.size ?? 3));
    if (next === null) return;
    event.preventDefault();
    setActive(next, true);
  });

  return {
    isPlayable,
    setPlayable,
    settleTabStop() {
      if (!visited && !board.contains(document.activeElement)) setActive(firstPlayable(), false);
    },
  };
}
