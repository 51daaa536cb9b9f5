/**
 * LiveHub: one per instance. Hears the bus and decides which of this instance's subscribers get
 * what: game states for a game's watchers (read once per change, coalesced), lobby notices
 * (throttled per subscriber), and the closing of sockets whose session ended. No socket code:
 * subscribers are anything with `deliver` and `close` (a LiveConnection, or a test's fake).
 */
import type { Logger } from 'pino';
import type { BusEvent } from '../db/events.js';
import type { GameState } from '../game/model.js';
import { markOf } from '../game/model.js';
import { CLOSE_SIGNED_OUT, CLOSE_TRY_AGAIN } from '../game/close-codes.js';
import type { ServerMessage } from '../game/protocol.js';

/** Who a subscriber acts for. `userId` null: a signed-out visitor, who may watch but not act. */
export interface Subscriber {
  readonly userId: number | null;
  /** The session's id, and its bus key (sessionKey(sid)); empty for a visitor. */
  readonly sid: string;
  readonly sessionKey: string;
  /** When the session logged in (ms). */
  readonly loginAt: number;
  /** When the session expires as last known (ms); page loads move it forward. */
  expiresAt: number;
  /** Sends one message (a pre-serialised one when many subscribers get the same). */
  deliver(message: ServerMessage | string): void;
  close(code: number, reason: string): void;
}

export interface HubDeps {
  /** Reads a game as the page shows it; undefined if there is none. */
  loadGame(id: string): Promise<GameState | undefined>;
  /** The sessions among `sids` that are still signed in, with their expiry (ms). */
  checkSessions(sids: string[]): Promise<Map<string, number>>;
  /** A player's socket started or stopped following their game. */
  presence: { join(gameId: string, userId: number): Promise<void>; leave(gameId: string, userId: number): Promise<void> };
  /** The game clock (ms), sent with states for countdowns. */
  clock: () => number;
  logger: Logger;
  /** At most one lobby notice per subscriber per this interval, plus one at its end (default 500 ms). */
  lobbyNoticeMs?: number;
}

/** What a subscriber follows: one game (as a player or a watcher) or the lobby lists. */
interface Following {
  game: string | null;
  playing: boolean;
  lobby: boolean;
  lobbyTimer: NodeJS.Timeout | null;
  /** The lists changed while `lobbyTimer` ran: notify again when it ends. */
  lobbyChanged: boolean;
}

export class LiveHub {
  private readonly subscribers = new Map<Subscriber, Following>();
  private readonly watchers = new Map<string, Set<Subscriber>>();
  /** The newest state seen of each game watched here (read, or carried by a move's event). */
  private readonly states = new Map<string, GameState>();
  /** Games being re-read for their watchers, and whether another event came in meanwhile. */
  private readonly refreshing = new Map<string, boolean>();
  /** Games being read for new watchers (how many reads), and those that changed meanwhile. */
  private readonly loading = new Map<string, number>();
  private readonly missed = new Set<string>();

  constructor(private readonly deps: HubDeps) {}

  get size(): number {
    return this.subscribers.size;
  }

  all(): Subscriber[] {
    return [...this.subscribers.keys()];
  }

  add(sub: Subscriber) {
    this.subscribers.set(sub, { game: null, playing: false, lobby: false, lobbyTimer: null, lobbyChanged: false });
  }

  remove(sub: Subscriber) {
    const following = this.subscribers.get(sub);
    if (!following) return;
    this.unfollow(sub, following);
    this.subscribers.delete(sub);
  }

  /**
   * The newest state of a game watched here. A move made at its ply needs no read first (see
   * makeMove); the write is guarded anyway.
   */
  latest(gameId: string): GameState | undefined {
    return this.states.get(gameId);
  }

  /**
   * Follows a game: sends its state now and on every change. Returns false if there is no such
   * game (or the subscriber left while it was read: a closed socket must never count as present).
   */
  async watch(sub: Subscriber, gameId: string): Promise<boolean> {
    const loaded = this.states.get(gameId) ?? (await this.loadForWatch(gameId));
    const following = this.subscribers.get(sub);
    if (!following || !loaded) {
      if (!this.loading.has(gameId)) this.missed.delete(gameId);
      return false;
    }
    this.unfollow(sub, following);
    following.game = gameId;
    let set = this.watchers.get(gameId);
    if (!set) this.watchers.set(gameId, (set = new Set()));
    set.add(sub);
    // A change broadcast while the game was read went to the others only: send the newer of the
    // two, so that no move is missed.
    this.remember(loaded);
    const game = this.states.get(gameId) ?? loaded;
    following.playing = markOf(game, sub.userId) !== null;
    sub.deliver({ type: 'state', game, now: this.deps.clock() });
    if (this.missed.delete(gameId)) await this.refresh(gameId);
    if (following.playing) await this.deps.presence.join(gameId, sub.userId!);
    return true;
  }

  /**
   * Reads a game for a new watcher. An event for it that arrives meanwhile may have gone to
   * nobody here (no watcher yet): it is remembered, and the game read again once the watcher is in.
   */
  private async loadForWatch(gameId: string): Promise<GameState | undefined> {
    this.loading.set(gameId, (this.loading.get(gameId) ?? 0) + 1);
    try {
      return await this.deps.loadGame(gameId);
    } finally {
      const left = this.loading.get(gameId)! - 1;
      if (left > 0) this.loading.set(gameId, left);
      else this.loading.delete(gameId);
    }
  }

  /** Follows the viewer's lobby lists: a `lobby` notice whenever they may have changed. */
  watchLobby(sub: Subscriber) {
    const following = this.subscribers.get(sub);
    if (!following) return;
    this.unfollow(sub, following);
    following.lobby = true;
  }

  /** Sends one subscriber the game as it is now (after a refused action, whatever it believed). */
  async sendState(sub: Subscriber, gameId: string) {
    const game = await this.deps.loadGame(gameId);
    if (game && this.remember(game)) sub.deliver({ type: 'state', game, now: this.deps.clock() });
  }

  /** Closes every subscriber (the database went away, or the instance stops). */
  closeAll(code: number, reason: string) {
    for (const sub of this.subscribers.keys()) sub.close(code, reason);
  }

  /**
   * Checks subscribers' sessions against the database: those that ended close, the others learn
   * their current expiry. Run for every new socket (an event that ended its session while it was
   * opening was not seen by it) and after the bus lost events.
   */
  async revalidate(subs: Subscriber[]) {
    const signedIn = subs.filter((s) => s.userId !== null);
    if (signedIn.length === 0) return;
    const valid = await this.deps.checkSessions([...new Set(signedIn.map((s) => s.sid))]);
    for (const sub of signedIn) {
      const expires = valid.get(sub.sid);
      if (expires === undefined) sub.close(CLOSE_SIGNED_OUT, 'Signed out');
      else sub.expiresAt = expires;
    }
  }

  /** One bus event: sessions ended, the database lost or back, or a game changed. */
  async onEvent(event: BusEvent): Promise<void> {
    switch (event.kind) {
      case 'user':
        return this.endSessions((s) => s.userId === event.user && (event.validAfter === undefined || s.loginAt < event.validAfter));
      case 'session':
        return this.endSessions((s) => s.sessionKey === event.session);
      case 'unavailable':
        // Without the database no move can be made: clients show "Reconnecting…" and come back
        // (and resync) once the upgrade, which reads the session, works again.
        return this.closeAll(CLOSE_TRY_AGAIN, 'Database unavailable');
      case 'resync':
        await this.revalidate(this.all());
        for (const gameId of [...this.watchers.keys()]) await this.refresh(gameId);
        for (const [sub, following] of this.subscribers) if (following.lobby) this.noticeLobby(sub, following);
        return;
      case 'game':
        return this.onGameEvent(event);
    }
  }

  private async onGameEvent(event: Extract<BusEvent, { kind: 'game' }>) {
    for (const [sub, following] of this.subscribers) {
      if (following.lobby && (event.lobby || (sub.userId !== null && event.players.includes(sub.userId)))) this.noticeLobby(sub, following);
    }
    if (this.loading.has(event.game)) this.missed.add(event.game);
    const subs = this.watchers.get(event.game);
    if (!subs) return;
    if (!event.state) await this.refresh(event.game);
    else if (this.remember(event.state)) this.broadcast(subs, event.state);
  }

  private endSessions(ended: (sub: Subscriber) => boolean) {
    for (const sub of this.subscribers.keys()) if (ended(sub)) sub.close(CLOSE_SIGNED_OUT, 'Signed out');
  }

  /** Keeps `game` if it is newer than what is known; says whether it was. */
  private remember(game: GameState): boolean {
    const known = this.states.get(game.id);
    if (known && known.version > game.version) return false;
    if (this.watchers.has(game.id)) this.states.set(game.id, game);
    return true;
  }

  private broadcast(subs: Iterable<Subscriber>, game: GameState) {
    const message = JSON.stringify({ type: 'state', game, now: this.deps.clock() } satisfies ServerMessage);
    for (const sub of subs) sub.deliver(message);
  }

  /**
   * Re-reads a game for its watchers. Events that arrive during a read cost one more read, not one
   * each (a move and a presence change often come together), and the last read always starts
   * after the last event.
   */
  private async refresh(gameId: string) {
    if (this.refreshing.has(gameId)) {
      this.refreshing.set(gameId, true);
      return;
    }
    try {
      do {
        this.refreshing.set(gameId, false);
        const subs = this.watchers.get(gameId);
        if (!subs?.size) continue;
        const game = await this.deps.loadGame(gameId);
        if (game && this.remember(game)) this.broadcast(this.watchers.get(gameId) ?? [], game);
      } while (this.refreshing.get(gameId));
    } finally {
      this.refreshing.delete(gameId);
    }
  }

  /**
   * A change inside the interval is not dropped: the client may have fetched the lists before it
   * committed, and without the trailing notice would show them stale until the next change.
   */
  private noticeLobby(sub: Subscriber, following: Following) {
    if (following.lobbyTimer) {
      following.lobbyChanged = true;
      return;
    }
    sub.deliver({ type: 'lobby' });
    following.lobbyChanged = false;
    following.lobbyTimer = setTimeout(() => {
      following.lobbyTimer = null;
      if (following.lobbyChanged && following.lobby) this.noticeLobby(sub, following);
    }, this.deps.lobbyNoticeMs ?? 500);
  }

  private unfollow(sub: Subscriber, following: Following) {
    following.lobby = false;
    if (following.lobbyTimer) clearTimeout(following.lobbyTimer);
    following.lobbyTimer = null;
    const gameId = following.game;
    if (!gameId) return;
    const set = this.watchers.get(gameId);
    set?.delete(sub);
    if (set?.size === 0) {
      this.watchers.delete(gameId);
      this.states.delete(gameId);
    }
    if (following.playing && sub.userId !== null) {
      this.deps.presence.leave(gameId, sub.userId).catch((err: unknown) => this.deps.logger.warn({ err }, 'presence update failed'));
    }
    following.game = null;
    following.playing = false;
  }
}
