/**
 * Follows the game over the WebSocket (src/client/socket.ts reconnects by itself): keeps the last
 * state the server sent, draws it through `draw`, and draws it again whenever time alone changes
 * the view (view.refreshAt: a countdown's next second, a player going away).
 */
import type { GameState } from '../../game/model.js';
import type { ServerMessage } from '../../game/protocol.js';
import { viewGame, type GameView } from '../../game/view.js';
import { connectLive, type ConnectionChange, type LiveSocket } from '../socket.js';
import { announce, showError, type GamePage } from './page.js';
import type { Pending } from './pending.js';

type StateMessage = Extract<ServerMessage, { type: 'state' }>;
/** A longer setTimeout fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class LiveGame {
  readonly socket: LiveSocket;
  private version: number;
  private state: GameState | null = null;
  private lastView: GameView | null = null;
  /** Server clock minus ours, so countdowns agree with the server. */
  private clockOffset = 0;
  private refreshTimer: number | undefined;
  private requests = 0;
  /** Navigates once: the ack and the state of an accepted rematch both say where to go. */
  private leaving = false;

  constructor(
    private readonly page: GamePage,
    private readonly pending: Pending,
    private readonly draw: (view: GameView) => void,
  ) {
    this.version = page.version;
    this.socket = connectLive(
      // After every (re)connection the server sends the whole game at once, then every change.
      (live) => live.send({ type: 'subscribe', game: page.gameId }),
      (message) => this.onMessage(message),
      (change) => this.onConnection(change),
      page.viewerId !== null,
    );
  }

  /** The view drawn last; null before the first state arrived. */
  get view(): GameView | null {
    return this.lastView;
  }

  /** A fresh id for a request, to match its ack or error. */
  nextId(): string {
    return `r${++this.requests}`;
  }

  /** Draws the last state again, at the server's time now; false before the first state arrived. */
  redraw(): boolean {
    if (!this.state) return false;
    const view = viewGame(this.state, this.page.viewerId, this.serverNow());
    this.lastView = view;
    this.draw(view);
    // One timer: the next moment at which time alone changes what the page shows.
    window.clearTimeout(this.refreshTimer);
    if (view.refreshAt !== null) {
      const wait = Math.min(MAX_TIMER_MS, Math.max(0, view.refreshAt - this.serverNow()));
      this.refreshTimer = window.setTimeout(() => this.redraw(), wait);
    }
    return true;
  }

  private serverNow(): number {
    return Date.now() + this.clockOffset;
  }

  private goToGame(id: string) {
    if (this.leaving) return;
    this.leaving = true;
    location.assign(`/games/${id}`);
  }

  private onMessage(message: ServerMessage) {
    if (this.leaving) return;
    if (message.type === 'state') this.onState(message);
    else if (message.type === 'error') {
      this.pending.clearAction();
      if (this.pending.cell) this.pending.rollBack(message.message);
      else {
        showError(this.page, message.message);
        this.redraw();
      }
    } else if (message.type === 'ack') {
      showError(this.page, '');
      this.pending.clearAction();
      if (message.rematchId) this.goToGame(message.rematchId);
    }
  }

  private onState({ game, now }: StateMessage) {
    if (game.id !== this.page.gameId || game.version < this.version) return;
    this.clockOffset = now - Date.now();
    this.version = game.version;
    this.state = game;
    // Both players of a finished game go to the rematch once it exists.
    const viewerId = this.page.viewerId;
    if (game.rematch.nextId && viewerId !== null && (game.players.X?.id === viewerId || game.players.O?.id === viewerId)) {
      announce(this.page, 'Rematch accepted. Opening the new game.');
      this.goToGame(game.rematch.nextId);
      return;
    }
    this.redraw();
  }

  private onConnection(change: ConnectionChange) {
    const { page, pending } = this;
    if (change === 'lost') {
      if (pending.cell) pending.rollBack('The connection was lost before your move arrived. Try again once it is back.');
      announce(page, 'Connection lost. Reconnecting…');
    } else if (change === 'restored') {
      announce(page, 'Connected again.');
    } else if (change === 'signed-out') {
      if (pending.cell) pending.rollBack('You have been signed out, so your move was not made.');
      announce(page, 'You have been signed out. Reload the page to continue.');
    }
  }
}
