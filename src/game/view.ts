/**
 * What one viewer sees of a game: status words, cell names, which buttons apply. Pure, so the
 * server renders the page from it and the browser script updates the same page from it.
 */
import { analyseMoves, boardAt, VERDICT_WORDS } from './analysis.js';
import { claimableAt, markOf, type GameState } from './model.js';
import { otherMark, parseBoard, turn, winner, type Mark } from './rules.js';

export type ViewStatus =
  | 'waiting'
  | 'your-turn'
  | 'their-turn'
  | 'won'
  | 'lost'
  | 'draw'
  | 'x-turn'
  | 'o-turn'
  | 'x-won'
  | 'o-won'
  | 'aborted';

export interface CellView {
  mark: Mark | '';
  label: string;
  playable: boolean;
  win: boolean;
  last: boolean;
}

export interface MoveView {
  text: string;
  mark: Mark;
  cell: number;
  /** After the game: what the move did under perfect play ("threw away a win"). */
  verdict: string | null;
  mistake: boolean;
  firstMistake: boolean;
  /** The move the replay shows last. */
  current: boolean;
}

export interface GameView {
  version: number;
  ply: number;
  /** The viewer's mark, or null for a spectator. */
  you: Mark | null;
  status: ViewStatus;
  statusText: string;
  /** A second line under the status (how the game ended, a rematch offer, an absent opponent). */
  detail: string;
  cells: CellView[];
  /** `turn`: this player is to move now (an active game). */
  players: { mark: Mark; name: string; you: boolean; away: boolean; turn: boolean }[];
  moves: MoveView[];
  /** Stepping through a finished game: the position shown (moves played) out of all of them. */
  replay: { ply: number; total: number } | null;
  /** A Hint is offered: the viewer's turn in a game against the computer at Easy or Medium. */
  canHint: boolean;
  canJoin: boolean;
  canResign: boolean;
  canCancel: boolean;
  canRematch: boolean;
  /** The viewer has offered a rematch and waits for the opponent. */
  rematchOffered: boolean;
  rematchId: string | null;
  showInvite: boolean;
  canClaim: boolean;
  /** When Claim victory becomes possible for the viewer (ms), while the opponent is away. */
  claimAt: number | null;
  /** The title of the browser tab: whose turn or the result first, then which game. */
  title: string;
}

/** The name shown for the empty seat of a game waiting for its second player. */
export const WAITING_NAME = 'Waiting for a player…';

export function cellName(cell: number): string {
  return `row ${Math.floor(cell / 3) + 1}, column ${(cell % 3) + 1}`;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const ENDINGS: Record<string, string> = {
  resigned: 'by resignation',
  abandoned: 'because the opponent left',
};

function statusFor(state: GameState, you: Mark | null): { status: ViewStatus; text: string } {
  const name = (mark: Mark) => state.players[mark]?.name ?? mark;
  const board = parseBoard(state.board);
  if (state.status === 'aborted') {
    return { status: 'aborted', text: state.reason === 'expired' ? 'Nobody joined in time' : 'Game cancelled' };
  }
  if (state.status === 'waiting') {
    return { status: 'waiting', text: you ? 'Waiting for an opponent' : 'Waiting for a second player' };
  }
  if (state.status === 'finished') {
    const how = state.reason ? (ENDINGS[state.reason] ?? '') : '';
    if (state.result === 'draw') return { status: 'draw', text: 'Draw' };
    const winnerMark: Mark = state.result === 'x_won' ? 'X' : 'O';
    if (you) {
      const text = winnerMark === you ? 'You won' : 'You lost';
      return { status: winnerMark === you ? 'won' : 'lost', text: how ? `${text} ${how}` : text };
    }
    return {
      status: winnerMark === 'X' ? 'x-won' : 'o-won',
      text: `${name(winnerMark)} (${winnerMark}) won${how ? ` ${how}` : ''}`,
    };
  }
  const mover = turn(board);
  if (you) {
    return mover === you
      ? { status: 'your-turn', text: 'Your turn' }
      : { status: 'their-turn', text: `${name(mover)}'s turn` };
  }
  return { status: mover === 'X' ? 'x-turn' : 'o-turn', text: `${name(mover)} (${mover}) to move` };
}

export function viewGame(state: GameState, viewerId: number | null, now: number, options: { replayPly?: number } = {}): GameView {
  const you = markOf(state, viewerId);
  const over = state.status === 'finished' || state.status === 'aborted';
  const total = state.moves.length;
  // A finished game can be stepped through: the board shows the position after `shownPly` moves.
  const shownPly = over && options.replayPly !== undefined ? Math.max(0, Math.min(total, options.replayPly)) : total;
  const board = shownPly === total ? parseBoard(state.board) : boardAt(state.moves, shownPly);
  const { status, text } = statusFor(state, you);
  const line: readonly number[] = winner(board)?.line ?? [];
  const lastCell = shownPly > 0 ? state.moves[shownPly - 1] : undefined;
  const mover = turn(board);
  const active = state.status === 'active';
  const opponent = you ? otherMark(you) : null;
  const opponentPlayer = opponent ? state.players[opponent] : null;

  const cells: CellView[] = board.map((mark, cell) => ({
    mark: mark ?? '',
    label: `${capitalise(cellName(cell))}, ${mark ?? 'empty'}`,
    playable: active && you === mover && mark === null,
    win: line.includes(cell),
    last: cell === lastCell,
  }));

  const players = (['X', 'O'] as const).map((mark) => ({
    mark,
    name: state.players[mark]?.name ?? (state.status === 'waiting' ? WAITING_NAME : '—'),
    you: you === mark,
    away: active && state.players[mark]?.id != null && state.awaySince[mark] !== null,
    turn: active && mover === mark,
  }));

  const analysis = state.status === 'finished' && total > 0 ? analyseMoves(state.moves) : null;
  const moves = state.moves.map(
    (cell, i): MoveView => ({
      text: `${i % 2 === 0 ? 'X' : 'O'}: ${cellName(cell)}`,
      mark: i % 2 === 0 ? 'X' : 'O',
      cell,
      verdict: analysis ? VERDICT_WORDS[analysis.verdicts[i]!.verdict] : null,
      mistake: analysis?.verdicts[i]!.mistake ?? false,
      firstMistake: analysis?.firstMistake === i,
      current: over && i === shownPly - 1,
    }),
  );

  // Claim victory: only against a human opponent who is away on their own turn.
  const claimAt = active && opponent && mover === opponent ? claimableAt(state, opponent) : null;
  const offeredBy = state.rematch.offeredBy;
  const finished = state.status === 'finished';
  const rematchOffered = finished && offeredBy !== null && offeredBy === viewerId;

  let detail = '';
  if (finished && state.rematch.nextId === null && offeredBy !== null && you && offeredBy !== viewerId) {
    detail = `${opponentPlayer?.name ?? 'Your opponent'} wants a rematch.`;
  } else if (rematchOffered) {
    detail = `Rematch offered. Waiting for ${opponentPlayer?.name ?? 'your opponent'} to accept.`;
  } else if (claimAt !== null) {
    const seconds = Math.ceil((claimAt - now) / 1000);
    detail =
      seconds > 0
        ? `${opponentPlayer?.name ?? 'Your opponent'} has left. You can claim victory in ${seconds} s.`
        : `${opponentPlayer?.name ?? 'Your opponent'} has left. You can claim victory.`;
  } else if (state.status === 'waiting' && state.mode === 'friend' && you) {
    detail = 'Send the invite link to a friend. The game starts when they join.';
  }

  // "Your turn · Game against bob": the tab says first whether the game needs you, then where you are.
  const playerName = (mark: Mark) => state.players[mark]?.name ?? null;
  const opponentName = opponent ? playerName(opponent) : null;
  const where = you
    ? opponentName
      ? `Game against ${opponentName}`
      : 'New game'
    : `${playerName('X') ?? '…'} vs ${playerName('O') ?? '…'}`;
  const title = `${status === 'your-turn' ? 'Your turn' : text} · ${where}`;
  return {
    version: state.version,
    ply: state.ply,
    you,
    status,
    statusText: text,
    detail,
    cells,
    players,
    moves,
    replay: over && total > 0 ? { ply: shownPly, total } : null,
    canHint: active && you === mover && state.mode === 'ai' && (state.aiLevel === 'easy' || state.aiLevel === 'medium'),
    canJoin: state.status === 'waiting' && viewerId !== null && !you,
    canResign: active && you !== null,
    canCancel: state.status === 'waiting' && you !== null,
    canRematch: finished && you !== null && state.rematch.nextId === null && !rematchOffered,
    rematchOffered,
    rematchId: state.rematch.nextId,
    showInvite: state.status === 'waiting' && state.mode === 'friend' && you !== null,
    canClaim: claimAt !== null && claimAt <= now,
    claimAt,
    title,
  };
}

/** What the announcer compares to say what changed: the number of moves, the status and detail. */
export interface Announced {
  moves: number;
  statusText: string;
  detail: string;
  /** The opponent's name (players only), to say when someone joins. */
  names: string[];
}

/** A countdown ("in 42 s") ticks every second; only a change of wording is news. */
export function detailKey(detail: string): string {
  return detail.replace(/\d+/g, '#');
}

export function announced(view: Pick<GameView, 'moves' | 'statusText' | 'detail' | 'players'>): Announced {
  return {
    moves: view.moves.length,
    statusText: view.statusText,
    detail: detailKey(view.detail),
    names: view.players.map((p) => p.name),
  };
}

/**
 * The one sentence a screen reader hears when the game changes from `before` to `view`: each new
 * move in words, then the status ("O played row 2, column 3. Your turn."), then any new detail (a
 * rematch offer, an opponent who left). Empty when nothing worth saying changed.
 */
export function announcement(before: Announced, view: GameView): string {
  const parts: string[] = [];
  view.players.forEach((p, i) => {
    if (!p.you && before.names[i] === WAITING_NAME && p.name !== WAITING_NAME) parts.push(`${p.name} joined.`);
  });
  const fresh = view.moves.slice(before.moves);
  for (const move of fresh) parts.push(`${move.mark} played ${cellName(move.cell)}.`);
  if (fresh.length > 0 || view.statusText !== before.statusText) parts.push(sentence(view.statusText));
  const detail = detailKey(view.detail);
  if (view.detail && detail !== before.detail) parts.push(sentence(view.detail));
  return parts.join(' ');
}

function sentence(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}
