/**
 * What one viewer sees of a game: status words, cell names, which buttons apply. Pure, so the
 * server renders the page from it and the browser script updates the same page from it.
 */
import { analyseMoves, positionAt, VERDICT_WORDS } from './analysis.js';
import { markOf, type GameState } from './model.js';
import { claimableAt, isAway, nextPresenceChange } from './presence.js';
import { otherMark, variantOf, type AnyVariant, type AreaOwner, type Mark, type VariantId } from './variants/index.js';

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
  /** In an area (Ultimate: a small board) where the player to move may play now. */
  active: boolean;
  /** Who holds the cell's area once it is decided (Ultimate: a won or drawn small board). */
  areaOwner: AreaOwner;
}

export interface MoveView {
  text: string;
  /** The cell's name ("row 1, column 3"). */
  name: string;
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
  variant: VariantId;
  /** The grid's rows (and columns): 3, or 9 for Ultimate. */
  size: number;
  /** Where the player to move may play, when the variant limits it: "You play in board 5, centre". */
  where: string;
  /** Ultimate's small boards by name and who holds each; empty for a one-area board. */
  areas: { name: string; owner: AreaOwner }[];
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
  /**
   * The next moment (ms, server clock) at which time alone changes this view: a countdown's next
   * second, a player going away. Null when only a message from the server can change it.
   */
  refreshAt: number | null;
  /** The title of the browser tab: whose turn or the result first, then which game. */
  title: string;
}

/** The name shown for the empty seat of a game waiting for its second player. */
export const WAITING_NAME = 'Waiting for a player…';
/** The name shown for a seat nobody took (a game called off before anyone joined). */
const EMPTY_SEAT_NAME = '—';

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const ENDINGS: Record<string, string> = {
  resigned: 'by resignation',
  abandoned: 'because the opponent left',
};

function statusFor(state: GameState, you: Mark | null, mover: Mark): { status: ViewStatus; text: string } {
  const name = (mark: Mark) => state.players[mark]?.name ?? mark;
  if (state.status === 'aborted') {
    return { status: 'aborted', text: state.reason === 'expired' ? 'Nobody joined in time' : 'Game cancelled' };
  }
  if (state.status === 'waiting') {
    return { status: 'waiting', text: you ? 'Waiting for an opponent' : 'Waiting for a second player' };
  }
  if (state.status === 'finished') {
    const how = state.reason ? (ENDINGS[state.reason] ?? '') : '';
    if (state.result === 'draw') return { status: 'draw', text: state.reason === 'blocked' ? 'Draw: no line of small boards is left' : 'Draw' };
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
  if (you) {
    return mover === you
      ? { status: 'your-turn', text: 'Your turn' }
      : { status: 'their-turn', text: `${name(mover)}'s turn` };
  }
  return { status: mover === 'X' ? 'x-turn' : 'o-turn', text: `${name(mover)} (${mover}) to move` };
}

/** The board as shown (the position after `shownPly` moves), cell by cell, for the viewer. */
/** "won by X", "drawn": a decided area's state in words. */
function ownerWords(owner: AreaOwner): string {
  return owner === 'draw' ? 'drawn' : `won by ${owner}`;
}

function cellsOf(variant: AnyVariant, state: GameState, you: Mark | null, shownPly: number): { position: unknown; cells: CellView[]; shown: boolean } {
  const total = state.moves.length;
  const position = shownPly === total ? variant.parse(state.board) : positionAt(variant, state.moves, shownPly);
  const lines = new Set(variant.lines(position).flat());
  const lastCell = shownPly > 0 ? state.moves[shownPly - 1] : undefined;
  const yours = state.status === 'active' && you === variant.turn(position);
  // Where the next move had to go: in a running game, and at every step of a replay but the last.
  const shown = state.status === 'active' || shownPly < total;
  const legal = new Set(variant.legalMoves(position));
  const activeAreas = new Set([...legal].map((cell) => variant.areaOf(cell)));
  const owners = variant.areaOwners(position);
  const cells = variant.marks(position).map((mark, cell) => {
    const areaOwner = owners[variant.areaOf(cell)] ?? null;
    const decided = variant.areaName(variant.areaOf(cell)) !== null && areaOwner !== null;
    return {
      mark: mark ?? ('' as const),
      // A square of a decided small board says so, since it cannot be played whatever it holds.
      label: `${capitalise(variant.cellName(cell))}, ${mark ?? 'empty'}${decided ? `, ${ownerWords(areaOwner)}` : ''}`,
      playable: yours && legal.has(cell),
      win: lines.has(cell),
      last: cell === lastCell,
      active: shown && activeAreas.has(variant.areaOf(cell)),
      areaOwner,
    };
  });
  return { position, cells, shown };
}

/** A move that lowers its player's expected score by this much (engine analysis) is a blunder. */
export const BLUNDER_DROP = 0.2;

/** Each move's verdict and whether it was a mistake, or null while there is no analysis. */
function judgedMoves(variant: AnyVariant, state: GameState): { verdict: string; mistake: boolean }[] | null {
  if (state.status !== 'finished' || state.moves.length === 0) return null;
  if (variant.id === 'classic' || variant.id === 'misere') {
    return analyseMoves(state.moves, variant.id).verdicts.map((v) => ({ verdict: VERDICT_WORDS[v.verdict], mistake: v.mistake }));
  }
  const analysis = state.analysis;
  if (!analysis || analysis.best.length !== state.moves.length) return null;
  const percent = (score: number) => `${Math.round(score * 100)}%`;
  return state.moves.map((_, i) => {
    const [before, after] = [analysis.best[i]!, analysis.played[i]!];
    const mistake = before - after >= BLUNDER_DROP;
    return { verdict: `chances ${percent(before)} → ${percent(after)}${mistake ? ', a blunder' : ''}`, mistake };
  });
}

/** The move list, judged once the game is finished: by perfect play, or by the engine (Ultimate). */
function movesOf(variant: AnyVariant, state: GameState, over: boolean, shownPly: number): MoveView[] {
  const judged = judgedMoves(variant, state);
  const firstMistake = judged?.findIndex((j) => j.mistake) ?? -1;
  return state.moves.map((cell, i) => ({
    text: `${i % 2 === 0 ? 'X' : 'O'}: ${variant.cellName(cell)}`,
    name: variant.cellName(cell),
    mark: i % 2 === 0 ? 'X' : 'O',
    cell,
    verdict: judged?.[i]?.verdict ?? null,
    mistake: judged?.[i]?.mistake ?? false,
    firstMistake: firstMistake === i,
    current: over && i === shownPly - 1,
  }));
}

/** When claims can be made: by the viewer against an away opponent, and against the viewer while away. */
interface Claims {
  /** Claim victory: only against a human opponent who is away on their own turn. */
  claimAt: number | null;
  /** The other side of it: a player away on their turn (connection dropped) sees how long they have. */
  againstYou: number | null;
}

function claimsFor(state: GameState, you: Mark | null, now: number): Claims {
  const opponent = you ? otherMark(you) : null;
  return {
    claimAt: opponent && isAway(state, opponent, now) ? claimableAt(state, opponent) : null,
    againstYou: you && isAway(state, you, now) ? claimableAt(state, you) : null,
  };
}

/** The second line under the status: a rematch offer, an absent player's countdown, the invite. */
function detailFor(state: GameState, you: Mark | null, viewerId: number | null, claims: Claims, now: number): string {
  const opponentName = (you && state.players[otherMark(you)]?.name) || null;
  const offeredBy = state.rematch.offeredBy;
  const openOffer = state.status === 'finished' && state.rematch.nextId === null && offeredBy !== null;
  const seconds = (at: number) => Math.ceil((at - now) / 1000);
  if (openOffer && you && offeredBy !== viewerId) return `${opponentName ?? 'Your opponent'} wants a rematch.`;
  if (openOffer && offeredBy === viewerId) return `Rematch offered. Waiting for ${opponentName ?? 'your opponent'} to accept.`;
  if (claims.claimAt !== null) {
    const left = seconds(claims.claimAt);
    return `${opponentName ?? 'Your opponent'} has left. You can claim victory${left > 0 ? ` in ${left} s` : ''}.`;
  }
  if (claims.againstYou !== null) {
    const left = seconds(claims.againstYou);
    return `You seem to be away: ${opponentName ?? 'Your opponent'} can claim victory ${left > 0 ? `in ${left} s` : 'now'}. Make your move.`;
  }
  if (state.status === 'waiting' && state.mode === 'friend' && you) return 'Send the invite link to a friend. The game starts when they join.';
  if (state.status === 'finished' && state.variant === 'misere' && state.reason === 'line') {
    const loser: Mark = state.result === 'x_won' ? 'O' : 'X';
    const who = loser === you ? 'You' : `${state.players[loser]?.name ?? loser} (${loser})`;
    return `${who} completed three in a row, which loses in misère.`;
  }
  return '';
}

/** "Your turn · Game against bob": the tab says first whether the game needs you, then where you are. */
function titleFor(state: GameState, you: Mark | null, status: ViewStatus, text: string): string {
  const playerName = (mark: Mark) => state.players[mark]?.name ?? null;
  const opponentName = you ? playerName(otherMark(you)) : null;
  const where = you ? (opponentName ? `Game against ${opponentName}` : 'New game') : `${playerName('X') ?? '…'} vs ${playerName('O') ?? '…'}`;
  return `${status === 'your-turn' ? 'Your turn' : text} · ${where}`;
}

/**
 * What the viewer (a user id, or null for a signed-out visitor) sees of the game at `now` (ms, the
 * server's clock); `replayPly` shows a finished game after that many moves.
 */
export function viewGame(state: GameState, viewerId: number | null, now: number, options: { replayPly?: number } = {}): GameView {
  const you = markOf(state, viewerId);
  const over = state.status === 'finished' || state.status === 'aborted';
  const finished = state.status === 'finished';
  const active = state.status === 'active';
  const total = state.moves.length;
  // A finished game can be stepped through: the board shows the position after `shownPly` moves.
  const shownPly = over && options.replayPly !== undefined ? Math.max(0, Math.min(total, options.replayPly)) : total;
  const variant = variantOf(state.variant);
  const { position, cells, shown } = cellsOf(variant, state, you, shownPly);
  const mover = variant.turn(position);
  const { status, text } = statusFor(state, you, mover);
  const where = shown ? variant.whereToPlay(position) : null;
  const areas = variant.areaOwners(position).flatMap((owner, area) => {
    const name = variant.areaName(area);
    return name === null ? [] : [{ name, owner }];
  });
  const claims = claimsFor(state, you, now);
  const rematchOffered = finished && state.rematch.offeredBy !== null && state.rematch.offeredBy === viewerId && state.rematch.nextId === null;
  const players = (['X', 'O'] as const).map((mark) => ({
    mark,
    name: state.players[mark]?.name ?? (state.status === 'waiting' ? WAITING_NAME : EMPTY_SEAT_NAME),
    you: you === mark,
    away: isAway(state, mark, now),
    turn: active && mover === mark,
  }));
  return {
    variant: variant.id,
    size: variant.size,
    where: where === null ? '' : `${mover === you && active ? 'You play' : `${mover} plays`} ${where}.`,
    areas,
    version: state.version,
    ply: state.ply,
    you,
    status,
    statusText: text,
    detail: detailFor(state, you, viewerId, claims, now),
    cells,
    players,
    moves: movesOf(variant, state, over, shownPly),
    replay: over && total > 0 ? { ply: shownPly, total } : null,
    canHint: active && you === mover && state.mode === 'ai' && (state.aiLevel === 'easy' || state.aiLevel === 'medium'),
    canJoin: state.status === 'waiting' && viewerId !== null && !you,
    canResign: active && you !== null,
    canCancel: state.status === 'waiting' && you !== null,
    canRematch: finished && you !== null && state.rematch.nextId === null && !rematchOffered,
    rematchOffered,
    rematchId: state.rematch.nextId,
    showInvite: state.status === 'waiting' && state.mode === 'friend' && you !== null,
    canClaim: claims.claimAt !== null && claims.claimAt <= now,
    claimAt: claims.claimAt,
    refreshAt: refreshAt(state, now, claims.claimAt ?? claims.againstYou),
    title: titleFor(state, you, status, text),
  };
}

/** A countdown shown in the detail line changes every second; presence changes at its own moments. */
function refreshAt(state: GameState, now: number, countdownTo: number | null): number | null {
  const presence = nextPresenceChange(state, now);
  if (countdownTo === null || countdownTo <= now) return presence;
  const nextSecond = now + (((countdownTo - now - 1) % 1000) + 1);
  return presence === null ? nextSecond : Math.min(presence, nextSecond);
}

/** What the announcer compares to say what changed: the number of moves, the status and detail. */
export interface Announced {
  moves: number;
  statusText: string;
  detail: string;
  /** The opponent's name (players only), to say when someone joins. */
  names: string[];
  /** Who held each small board (Ultimate), to say when one is won or drawn. */
  owners: AreaOwner[];
}

/** A countdown ("in 42 s") ticks every second; only a change of wording is news. */
export function detailKey(detail: string): string {
  return detail.replace(/\d+/g, '#');
}

export function announced(view: Pick<GameView, 'moves' | 'statusText' | 'detail' | 'players' | 'areas'>): Announced {
  return {
    moves: view.moves.length,
    statusText: view.statusText,
    detail: detailKey(view.detail),
    names: view.players.map((p) => p.name),
    owners: view.areas.map((a) => a.owner),
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
    const seated = p.name !== WAITING_NAME && p.name !== EMPTY_SEAT_NAME;
    if (!p.you && before.names[i] === WAITING_NAME && seated) parts.push(`${p.name} joined.`);
  });
  const fresh = view.moves.slice(before.moves);
  for (const move of fresh) parts.push(`${move.mark} played ${move.name}.`);
  view.areas.forEach((area, i) => {
    if (fresh.length > 0 && area.owner !== null && (before.owners[i] ?? null) === null) {
      parts.push(area.owner === 'draw' ? `${capitalise(area.name)} is drawn.` : `${area.owner} won ${area.name}.`);
    }
  });
  if (fresh.length > 0 || view.statusText !== before.statusText) parts.push(sentence(view.statusText));
  if (fresh.length > 0 && view.where) parts.push(view.where);
  const detail = detailKey(view.detail);
  if (view.detail && detail !== before.detail) parts.push(sentence(view.detail));
  return parts.join(' ');
}

function sentence(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}
