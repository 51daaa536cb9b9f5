/**
 * The move list. Its markup has one definition, views/partials/move.ejs: the server renders each
 * move with it, and renders it once more into <template id="move-template"> with every part
 * present and placeholders for the words. A live move item is a clone of that template that keeps
 * the parts its move has and gets its words in place of the placeholders.
 */
import type { MoveView } from '../../game/view.js';

/** The placeholders views/game.ejs renders into the template (see the move-template there). */
const PLACEHOLDERS = { text: '{text}', verdict: '{verdict}' } as const;

/** Removes a part of the item, with the space the partial writes before it, if any. */
function removePart(part: Element | null) {
  if (!part) return;
  const before = part.previousSibling;
  if (before?.nodeType === Node.TEXT_NODE && (before.textContent ?? '').trim() === '') before.remove();
  part.remove();
}

/** Puts the words in place of the placeholders, in every text node of the item. */
function fillWords(item: HTMLElement, words: Record<keyof typeof PLACEHOLDERS, string>) {
  const walker = document.createTreeWalker(item, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let text = node.textContent ?? '';
    for (const key of Object.keys(PLACEHOLDERS) as (keyof typeof PLACEHOLDERS)[]) {
      text = text.split(PLACEHOLDERS[key]).join(words[key]);
    }
    node.textContent = text;
  }
}

/** One move as views/partials/move.ejs renders it. */
export function moveItem(template: HTMLTemplateElement, move: MoveView): HTMLLIElement {
  const item = template.content.firstElementChild!.cloneNode(true) as HTMLLIElement;
  // The same conditions as the partial's, part by part.
  if (!move.mistake) item.classList.remove('mistake');
  if (!item.classList.length) item.removeAttribute('class');
  if (!move.firstMistake) {
    item.removeAttribute('data-first-mistake');
    removePart(item.querySelector('.first-mistake'));
  }
  if (!move.current) item.removeAttribute('aria-current');
  if (!move.verdict) removePart(item.querySelector('.verdict'));
  fillWords(item, { text: move.text, verdict: move.verdict ?? '' });
  return item;
}

/** Draws the list again when its moves (or their analysis) changed. */
export function renderMoves(list: HTMLElement, template: HTMLTemplateElement, moves: MoveView[]): void {
  const key = JSON.stringify(moves);
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  list.replaceChildren(...moves.map((move) => moveItem(template, move)));
}
