/**
 * The one place where a change to a game becomes a live event, and where its audience is decided.
 * Every write to a game (game service) ends here once it has committed.
 */
import type { EventBus, GameEvent } from '../db/events.js';
import type { GameState } from './model.js';

/** What happened to a game, which is what decides who hears about it. */
export type ChangeKind =
  | 'created'
  | 'joined'
  | 'moved'
  /** Finished or aborted: by a move, resignation, claim, cancellation, expiry or account deletion. */
  | 'ended'
  | 'rematch-offered'
  | 'rematched'
  /** A player came or went: the version is unchanged, only watchers re-read it. */
  | 'presence'
  /** The engine's analysis of a finished game was stored: as for presence, watchers re-read it. */
  | 'analysed';

export interface GameChange {
  kind: ChangeKind;
  game: string;
  /** The version the write produced; 0 for presence and analysis (watchers re-read the game). */
  version: number;
  /** Its players (user ids), whose own lobby lists show it. */
  players: (number | null)[];
  /** Whether the new game shows in everyone's lists (open games, games being played): all but a friend's invitation. */
  listed?: boolean;
  /** The game as it now is, when the writer has it (after a move): watchers need not read it. */
  state?: GameState;
}

/**
 * Who hears about a change. Watchers of the game always do. A player's lobby lists show their own
 * games, so every change but presence reaches them; everyone's lists (open games, games being
 * played, newest first) change when a game is opened, starts or ends, not when a move is made.
 */
export function audienceOf(change: GameChange): { players: boolean; everyone: boolean } {
  switch (change.kind) {
    case 'presence':
    case 'analysed':
      return { players: false, everyone: false };
    case 'created':
      return { players: true, everyone: change.listed === true };
    case 'moved':
    case 'rematch-offered':
      return { players: true, everyone: false };
    case 'joined':
    case 'ended':
    case 'rematched':
      return { players: true, everyone: true };
  }
}

/** The bus event of a change (see audienceOf). */
export function eventOf(change: GameChange): GameEvent {
  const audience = audienceOf(change);
  const players = audience.players ? change.players.filter((p): p is number => p !== null) : [];
  return {
    kind: 'game',
    game: change.game,
    version: change.version,
    players,
    lobby: audience.everyone,
    ...(change.state ? { state: change.state } : {}),
  };
}

/**
 * Publishes committed changes. A lost event only delays an update: clients resync on reconnect,
 * and the bus tells every instance to re-read what it watches after it lost events.
 */
export async function publishChanges(bus: EventBus, changes: GameChange[]): Promise<void> {
  for (const change of changes) await bus.publish(eventOf(change));
}
