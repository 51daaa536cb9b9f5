/**
 * The shape of a game as the server stores and sends it. Pure types and constants, shared by the
 * server and the browser script.
 */
import type { Level } from './ai.js';
import type { FinalResult, Mark, VariantId } from './variants/types.js';

export type { FinalResult };

export type GameMode = 'ai' | 'friend' | 'open';
export type GameStatus = 'waiting' | 'active' | 'finished' | 'aborted';
export type EndReason = 'line' | 'full' | 'blocked' | 'resigned' | 'abandoned' | 'expired' | 'cancelled';
export type PlayAs = Mark | 'random';

export const LEVEL_NAMES: Record<Level, string> = { easy: 'Easy', medium: 'Medium', perfect: 'Perfect', hard: 'Hard' };

/** A friend or open game that nobody joins within this time is aborted. */
export const WAITING_EXPIRES_MS = 60 * 60 * 1000;

export interface Player {
  /** null for the computer. */
  id: number | null;
  name: string;
}

export interface GameState {
  id: string;
  variant: VariantId;
  mode: GameMode;
  aiLevel: Level | null;
  status: GameStatus;
  result: FinalResult | null;
  reason: EndReason | null;
  /** The position as the variant serializes it (classic: 9 characters X, O or '.', row by row). */
  board: string;
  ply: number;
  version: number;
  createdBy: number;
  players: { X: Player | null; O: Player | null };
  /** Cells in the order they were played; X played the first. */
  moves: number[];
  /**
   * For each human seat: null while its player has a live socket, else when they are or were last
   * there (ms; may be in the future after a page load, see presence.ts).
   */
  awaySince: { X: number | null; O: number | null };
  /** When the player to move got the turn (ms). */
  turnStartedAt: number | null;
  /** A waiting game is aborted at this moment (ms). */
  expiresAt: number | null;
  rematch: { offeredBy: number | null; nextId: string | null };
  /**
   * Ultimate, once finished and analysed by the engine: for each move, the mover's expected score
   * (win 1, draw ½) with the engine's best move and with the move played. Null otherwise (classic
   * and misère are judged by perfect play in the view).
   */
  analysis: { best: number[]; played: number[] } | null;
}

export function computerName(level: Level): string {
  return `Computer (${LEVEL_NAMES[level]})`;
}

export function markOf(state: GameState, userId: number | null | undefined): Mark | null {
  if (userId == null) return null;
  if (state.players.X?.id === userId) return 'X';
  if (state.players.O?.id === userId) return 'O';
  return null;
}
