/**
 * The WebSocket protocol at /ws: one union per direction. Client messages are parsed once, here;
 * the browser script imports only the types.
 */
import { z } from 'zod';
import type { GameState } from './model.js';

const gameId = z.string().regex(/^[A-Za-z0-9]{12}$/, 'not a game id');
/** Chosen by the client to match an `ack` or `error` to the message it sent. */
const requestId = z.string().min(1).max(40);

export const clientMessageSchema = z.discriminatedUnion('type', [
  /** Follow a game (its whole state comes at once, then on every change) or the lobby lists. */
  z.object({ type: z.literal('subscribe'), id: requestId.optional(), game: gameId }),
  z.object({ type: z.literal('subscribe-lobby'), id: requestId.optional() }),
  z.object({
    type: z.literal('move'),
    id: requestId,
    game: gameId,
    /** The number of moves on the board the player was shown. */
    // Bounds of the largest board (Ultimate); the game's own variant checks the cell (service.makeMove).
    ply: z.number().int().min(0).max(81),
    cell: z.number().int().min(0).max(80),
  }),
  z.object({ type: z.literal('resign'), id: requestId, game: gameId }),
  z.object({ type: z.literal('rematch'), id: requestId, game: gameId }),
  z.object({ type: z.literal('claim'), id: requestId, game: gameId }),
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;

export type ServerMessage =
  /** The whole game (small enough to send whole), with the server's clock for countdowns. */
  | { type: 'state'; game: GameState; now: number }
  | { type: 'ack'; id: string; rematchId?: string | null }
  /** `id`: the message it answers, whenever that message had one. */
  | { type: 'error'; id?: string; code: string; message: string }
  /** Something in the viewer's lobby lists changed: fetch them again. */
  | { type: 'lobby' }
  /** First on every socket: whether it acts for a signed-in session (or only watches). */
  | { type: 'hello'; signedIn: boolean };

export { CLOSE_GOING_AWAY, CLOSE_POLICY, CLOSE_SIGNED_OUT, CLOSE_TRY_AGAIN } from './close-codes.js';
