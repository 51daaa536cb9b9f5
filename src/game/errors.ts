/** The refusals of the game service, as codes; web/errors.ts maps each to an HTTP status. */
import type { RuleError } from './variants/types.js';

export type GameErrorCode =
  | RuleError['code']
  | 'not_found'
  | 'not_a_player'
  | 'not_started'
  | 'stale'
  | 'full'
  | 'expired'
  | 'cancelled'
  | 'cannot_claim'
  | 'cannot_rematch'
  | 'no_hint'
  | 'bad_request'
  | 'too_many'
  | 'busy';

/**
 * A refused action: a code for programs (the web layer maps codes to HTTP statuses in one place,
 * web/errors.ts) and a sentence for the player.
 */
export class GameError extends Error {
  constructor(
    readonly code: GameErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GameError';
  }
}
