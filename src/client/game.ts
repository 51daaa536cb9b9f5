/**
 * Upgrades the game page (views/game.ejs) to live play. The page works without this script (every
 * action is a form); with it, moves and actions go over the WebSocket and every state the server
 * sends is drawn with the same view function the server used to render the page.
 *
 * The pieces, in src/client/game/:
 * - page.ts       the page's elements, the announcer and the error box
 * - grid.ts       the board as an ARIA grid: roving tabindex, arrow keys, aria-disabled
 * - board.ts      playing a square: sending the move, or saying why it cannot be played
 * - pending.ts    a pressed square or action shown at once, rolled back when refused
 * - live.ts       the socket: states in, redraws (also when time alone changes the view)
 * - render.ts     drawing a GameView onto the page
 * - moves.ts      the move list, cloned from the server's own markup of a move
 * - announcer.ts  one message per change for screen readers
 * - actions.ts    the action forms, the Hint link and the invite's Copy button
 */
import { changeAnnouncer } from './game/announcer.js';
import { wireActions, wireHint, wireInviteCopy } from './game/actions.js';
import { wireBoard } from './game/board.js';
import { boardGrid } from './game/grid.js';
import { LiveGame } from './game/live.js';
import { findPage } from './game/page.js';
import { Pending } from './game/pending.js';
import { render } from './game/render.js';

const root = document.getElementById('game');
if (root) start(root);

function start(root: HTMLElement) {
  const page = findPage(root);
  const grid = boardGrid(page.board, page.cells, page.boardHelp);
  const hear = changeAnnouncer(page);
  const pending: Pending = new Pending(page, grid, () => live.redraw());
  const live: LiveGame = new LiveGame(page, pending, (view) => {
    render(page, view, grid, pending);
    hear(view);
  });
  wireBoard(page, grid, pending, live);
  wireActions(page, pending, live);
  wireHint(page);
  wireInviteCopy(page);
}
