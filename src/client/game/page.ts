/**
 * The game page's elements, found once by their ids, and the two ways the script speaks: the
 * announcer (the one polite live region) and the error box (role=alert).
 */
import type { Mark } from '../../game/variants/types.js';

export interface GamePage {
  root: HTMLElement;
  gameId: string;
  /** The signed-in viewer, or null for a visitor. */
  viewerId: number | null;
  /** The game's version as the server rendered it. */
  version: number;
  status: HTMLElement;
  detail: HTMLElement;
  errorBox: HTMLElement;
  /** The ARIA grid (#board) and its nine buttons, in cell order. */
  board: HTMLElement;
  cells: HTMLButtonElement[];
  boardForm: HTMLFormElement;
  boardHelp: HTMLElement | null;
  /** The board form's hidden ply: the number of moves the player was shown. */
  plyInput: HTMLInputElement;
  movesList: HTMLElement;
  /** One move item with every part present (views/partials/move.ejs), for the live list. */
  moveTemplate: HTMLTemplateElement;
  announcer: HTMLElement | null;
  /** The favicon, which has a second picture for "your turn". */
  icon: HTMLLinkElement | null;
  plainIcon: string;
}

export function findPage(root: HTMLElement): GamePage {
  const $ = <T extends HTMLElement>(id: string) => root.querySelector<T>(`#${id}`);
  const icon = document.querySelector<HTMLLinkElement>('link[rel="icon"][data-turn-href]');
  return {
    root,
    gameId: root.dataset.game!,
    viewerId: root.dataset.viewer ? Number(root.dataset.viewer) : null,
    version: Number(root.dataset.version),
    status: $('game-status')!,
    detail: $('game-detail')!,
    errorBox: $('game-error')!,
    board: $('board')!,
    cells: [...root.querySelectorAll<HTMLButtonElement>('button[data-cell]')],
    boardForm: $<HTMLFormElement>('board-form')!,
    boardHelp: $('board-help'),
    plyInput: root.querySelector<HTMLInputElement>('input[name="ply"]')!,
    movesList: $('moves')!,
    moveTemplate: $<HTMLTemplateElement>('move-template')!,
    announcer: $('announcer'),
    icon,
    plainIcon: icon?.href ?? '',
  };
}

/** Says a message in the live region. */
export function announce(page: GamePage, message: string): void {
  if (!page.announcer || !message) return;
  // A new node each time, so the same words twice in a row are still spoken.
  const line = document.createElement('p');
  line.textContent = message;
  page.announcer.replaceChildren(line);
}

/** Shows a refusal in the error box; an empty message hides it. */
export function showError(page: GamePage, message: string): void {
  page.errorBox.textContent = message;
  page.errorBox.hidden = message === '';
}

/** The viewer's mark as the server rendered it, before the first live state. */
export function renderedMark(page: GamePage): Mark | null {
  const item = page.root.querySelector<HTMLElement>('[data-player]:has(.player-you:not([hidden]))');
  return (item?.dataset.player as Mark | undefined) ?? null;
}
