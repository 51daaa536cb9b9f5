/**
 * Presence and the claim-victory rule, as pure functions of a game's state and the time.
 *
 * A player takes part in two ways, and both count as being there:
 * - a live socket on the game page (the browser script): present while an instance holds one;
 * - plain page loads (play without JavaScript: the page reloads itself while the game runs, see
 *   PAGE_RELOAD_SECONDS): present for PAGE_PRESENCE_MS after each load.
 *
 * `GameState.awaySince[seat]` says when the seat's player is (or was) last there: null while a
 * socket is open, otherwise a moment that may lie in the future (the end of a page load's
 * presence), so every viewer can tell when the player goes away without being told again.
 */
import type { GameState } from './model.js';
import { moverAt } from './row.js';
import type { Mark } from './variants/types.js';

/** A player away this long on their own turn can be beaten by "Claim victory". */
export const CLAIM_AFTER_MS = 60 * 1000;
/** A game page without JavaScript reloads itself this often while the game runs. */
export const PAGE_RELOAD_SECONDS = 15;
/** One page load counts as presence this long: two reload intervals, so one slow load is not "away". */
export const PAGE_PRESENCE_MS = 2 * PAGE_RELOAD_SECONDS * 1000;

/** Whether the seat's player is away at `now` (only human players of an active game can be). */
export function isAway(state: GameState, seat: Mark, now: number): boolean {
  const since = state.awaySince[seat];
  return state.status === 'active' && state.players[seat]?.id != null && since !== null && since <= now;
}

/**
 * When the seat's player may be beaten by Claim victory: CLAIM_AFTER_MS after they went away or
 * after their turn began, whichever is later; null if it is not their turn, the game is not
 * active, the seat is the computer's, they are connected, or the opponent is the computer (only a
 * person claims).
 */
export function claimableAt(state: GameState, seat: Mark): number | null {
  const away = state.awaySince[seat];
  if (state.status !== 'active' || state.mode === 'ai' || away === null || state.players[seat]?.id == null) return null;
  if (moverAt(state.ply) !== seat) return null;
  return Math.max(away, state.turnStartedAt ?? away) + CLAIM_AFTER_MS;
}

/**
 * The next moment after `now` at which presence alone changes what a viewer sees (a player goes
 * away, a claim becomes possible), or null. Viewers redraw then without a message from the server.
 */
export function nextPresenceChange(state: GameState, now: number): number | null {
  const moments: number[] = [];
  for (const seat of ['X', 'O'] as const) {
    const since = state.awaySince[seat];
    if (since !== null && since > now && state.status === 'active') moments.push(since);
    const claim = claimableAt(state, seat);
    if (claim !== null && claim > now) moments.push(claim);
  }
  return moments.length ? Math.min(...moments) : null;
}
