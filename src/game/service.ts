/**
 * Every write to a game: create, join, move, resign, claim, rematch, expiry, calling off the games
 * of a deleted or deactivated account, and presence. Each is one transaction (rules + store) that
 * yields a GameChange, published once it has committed (see changes.ts, the one publish point).
 */
import { randomInt } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { EventBus } from '../db/events.js';
import { publishChanges, type GameChange } from './changes.js';
import { inTransaction } from '../db/transaction.js';
import type { Level, Random } from './ai.js';
import type { Computer } from './engines/index.js';
import type { Analyser } from './analyser.js';
import { markOf, WAITING_EXPIRES_MS, type FinalResult, type GameMode, type GameState, type GameStatus, type PlayAs } from './model.js';
import { otherMark, RuleError, variantOf, type AnyVariant, type Mark, type VariantId } from './variants/index.js';
import { claimableAt, isAway, PAGE_PRESENCE_MS } from './presence.js';
import * as store from './store.js';
import { playerIds, seatOf, type GameRow } from './row.js';
import { GameError } from './errors.js';

export { GameError, type GameErrorCode } from './errors.js';
import { rateGame } from '../users/ratings.js';
import * as ratingStore from '../users/store.js';

export interface GameDeps {
  db: Pool;
  bus: EventBus;
  /** Milliseconds since the epoch; tests move it forward. */
  clock: () => number;
  /** For "Play as Random" (and the computer's choices, through `computer`). */
  random: Random;
  computer: Computer;
  /** Ultimate's post-game analysis, asked for when a game ends. */
  analyser: Analyser;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const GAME_ID_PATTERN = /^[A-Za-z0-9]{12}$/;

/** 12 characters from a CSPRNG, about 71 bits: the invite link cannot be guessed. */
export function newGameId(): string {
  let id = '';
  for (let i = 0; i < 12; i++) id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return id;
}


function notFound(): GameError {
  return new GameError('not_found', 'There is no game at this address.');
}

/** Who plays a game, as rating and live events need it. */
type Seats = Pick<GameRow, 'id' | 'variant' | 'mode' | 'playerX' | 'playerO'>;

/** Publishes after commit (see changes.ts). */
function announce(deps: GameDeps, ...changes: GameChange[]): Promise<void> {
  return publishChanges(deps.bus, changes);
}

export async function loadGame(deps: Pick<GameDeps, 'db' | 'clock'>, id: string): Promise<GameState | undefined> {
  if (!GAME_ID_PATTERN.test(id)) return undefined;
  const row = await store.readGameState(deps.db, id, deps.clock());
  return row && store.toGameState(row, WAITING_EXPIRES_MS);
}

export interface NewGameOptions {
  /** Default: classic. */
  variant?: VariantId;
  mode: GameMode;
  level: Level;
  playAs: PlayAs;
}

/**
 * A game between two people that has just finished is rated in the same transaction, so a result
 * never exists without its rating change (games against the computer and aborted ones are not).
 */
async function rateIfRated(tx: PoolClient, game: Seats, result: FinalResult) {
  if (game.mode === 'ai' || game.playerX === null || game.playerO === null) return;
  const ratings = await ratingStore.lockRatings(tx, game.variant, [game.playerX, game.playerO]);
  const before = { x: ratings.get(game.playerX)!, o: ratings.get(game.playerO)! };
  const after = rateGame(before.x, before.o, result);
  await ratingStore.saveRating(tx, game.variant, game.playerX, after.x);
  await ratingStore.saveRating(tx, game.variant, game.playerO, after.o);
  await ratingStore.saveRatingChanges(tx, game.id, after.x.rating - before.x.rating, after.o.rating - before.o.rating);
}

/** The game a position leads to: still active, or finished with its result and why. */
function outcomeOf(variant: AnyVariant, position: unknown): store.AfterMoves {
  const board = variant.serialize(position);
  const r = variant.result(position);
  if (r === 'in_progress') return { board, status: 'active', result: null, reason: null };
  return { board, status: 'finished', result: r, reason: variant.ending(position) };
}

export async function createGame(deps: GameDeps, userId: number, options: NewGameOptions): Promise<string> {
  const now = deps.clock();
  const mark: Mark = options.playAs === 'random' ? (deps.random() < 0.5 ? 'X' : 'O') : options.playAs;
  const id = newGameId();
  const vsComputer = options.mode === 'ai';
  const variant = variantOf(options.variant ?? 'classic');
  // The computer as X opens at once, so the game page shows its first move. Chosen before the
  // transaction: no database connection waits for the engine.
  const opening = vsComputer && mark === 'O' ? await openingMove(deps, variant, options.level, id, userId) : null;
  await inTransaction(deps.db, async (tx) => {
    await store.insertGame(tx, {
      id,
      variant: variant.id,
      board: variant.serialize(variant.start()),
      mode: options.mode,
      aiLevel: vsComputer ? options.level : null,
      aiMark: vsComputer ? otherMark(mark) : null,
      createdBy: userId,
      playerX: mark === 'X' ? userId : null,
      playerO: mark === 'O' ? userId : null,
      status: vsComputer ? 'active' : 'waiting',
      rematchOf: null,
      now,
    });
    if (opening !== null) await recordOpening(tx, variant, id, opening, now);
  });
  await announce(deps, { kind: 'created', game: id, version: 1, players: [userId], listed: options.mode !== 'friend' });
  return id;
}

function openingMove(deps: GameDeps, variant: AnyVariant, level: Level, gameId: string, owner: number): Promise<number> {
  return deps.computer.move(variant, level, variant.start(), 'X', gameId, owner);
}

async function recordOpening(tx: PoolClient, variant: AnyVariant, id: string, cell: number, now: number) {
  const position = variant.play(variant.start(), cell, 'X');
  await store.recordMoves(tx, id, 0, [{ cell, mark: 'X', playerId: null }], outcomeOf(variant, position), now);
}

export async function joinGame(deps: GameDeps, userId: number, id: string): Promise<void> {
  if (!GAME_ID_PATTERN.test(id)) throw notFound();
  const now = deps.clock();
  const seated = await store.takeSeat(deps.db, id, userId, now, now - WAITING_EXPIRES_MS);
  if (seated) {
    await announce(deps, { kind: 'joined', game: id, version: seated.version, players: [seated.playerX, seated.playerO] });
    return;
  }
  const game = await loadGame(deps, id);
  if (!game) throw notFound();
  if (markOf(game, userId)) return; // already seated: nothing to do
  if (game.mode === 'ai') throw new GameError('full', 'This is a game against the computer; you can watch it.');
  if (game.status === 'waiting' || (game.status === 'aborted' && game.reason === 'expired')) {
    throw new GameError('expired', 'This game expired because nobody joined within an hour.');
  }
  if (game.status === 'aborted' && game.reason === 'cancelled') throw new GameError('cancelled', 'This game was called off by the person who created it.');
  throw new GameError('full', 'Someone else has already joined this game. You can watch it.');
}

/** What an action did: the kind of change and the game's new version (none if nothing changed), and what to return. */
interface Outcome<T> {
  change: { kind: GameChange['kind']; version: number } | null;
  value: T;
}

/**
 * The frame of every player action: one transaction holding the game's row lock, refused unless
 * the user plays in the game, then one live event once it has committed.
 */
async function asPlayer<T>(
  deps: GameDeps,
  userId: number,
  id: string,
  act: (tx: PoolClient, game: GameRow, you: Mark, now: number) => Promise<Outcome<T>>,
): Promise<T> {
  if (!GAME_ID_PATTERN.test(id)) throw notFound();
  const now = deps.clock();
  const { game, outcome } = await inTransaction(deps.db, async (tx) => {
    const game = await store.lockGame(tx, id);
    if (!game) throw notFound();
    const you = seatOf(game, userId);
    if (!you) throw new GameError('not_a_player', 'You are not playing in this game.');
    return { game, outcome: await act(tx, game, you, now) };
  });
  if (outcome.change) await announce(deps, { ...outcome.change, game: id, players: [game.playerX, game.playerO] });
  if (outcome.change?.kind === 'ended') analyseIfEngineJudged(deps, game);
  return outcome.value;
}

function mustBeActive(game: { status: GameStatus }) {
  if (game.status === 'waiting') throw new GameError('not_started', 'The game starts when your opponent joins.');
  if (game.status !== 'active') throw new GameError('game_over', 'The game is already over.');
}

const STALE = 'The board changed since you saw it. Here is the current position.';

/**
 * The state a fresh read would show after the moves, built from the state they were made on and
 * what the write returned: live updates need no read of the game after a move.
 */
function stateAfter(before: GameState, moves: store.NewMove[], after: store.AfterMoves, recorded: store.Recorded, now: number): GameState {
  return {
    ...before,
    status: after.status,
    result: after.result,
    reason: after.reason,
    board: after.board,
    ply: before.ply + moves.length,
    version: recorded.version,
    moves: [...before.moves, ...moves.map((m) => m.cell)],
    awaySince: {
      X: before.players.X?.id == null ? null : recorded.xAwaySince,
      O: before.players.O?.id == null ? null : recorded.oAwaySince,
    },
    turnStartedAt: now,
  };
}

/**
 * One move by a player, shown the board at `expectedPly`. Against the computer its answer is
 * made at the same time, so the reply already contains it. Returns the game after the move.
 *
 * The hot path is one statement: it updates the game and inserts the moves only if the game is
 * still active at `expectedPly` (see store.recordMoves). `known` is the latest state the caller
 * has (the live layer keeps the state it last sent); at the same ply it is the board the write
 * will be guarded against, so it stands in for reading the game first. A move that ends a game
 * between people also rates it, in one transaction with the move.
 */
export async function makeMove(
  deps: GameDeps,
  userId: number,
  id: string,
  expectedPly: number,
  cell: number,
  known?: GameState,
): Promise<GameState> {
  if (!GAME_ID_PATTERN.test(id)) throw notFound();
  const now = deps.clock();
  const game = known?.id === id && known.ply === expectedPly ? known : await loadGame(deps, id);
  if (!game) throw notFound();
  const variant = variantOf(game.variant);
  if (!Number.isInteger(cell) || cell < 0 || cell >= variant.cells) throw new RuleError('out_of_range', 'That square is not on the board.');
  const you = markOf(game, userId);
  if (!you) throw new GameError('not_a_player', 'You are not playing in this game.');
  mustBeActive(game);
  if (expectedPly !== game.ply) throw new GameError('stale', STALE);

  let position = variant.play(variant.parse(game.board), cell, you);
  const moves: store.NewMove[] = [{ cell, mark: you, playerId: userId }];
  if (game.aiLevel && variant.result(position) === 'in_progress') {
    const computer = otherMark(you);
    const answer = await deps.computer.move(variant, game.aiLevel, position, computer, id, userId);
    position = variant.play(position, answer, computer);
    moves.push({ cell: answer, mark: computer, playerId: null });
  }
  const after = outcomeOf(variant, position);
  const seats = { id, variant: game.variant, mode: game.mode, playerX: game.players.X?.id ?? null, playerO: game.players.O?.id ?? null };
  const record = (db: Pool | PoolClient) => store.recordMoves(db, id, game.ply, moves, after, now);
  const recorded =
    after.result && game.mode !== 'ai'
      ? await inTransaction(deps.db, async (tx) => {
          const recorded = await record(tx);
          if (recorded) await rateIfRated(tx, seats, after.result!);
          return recorded;
        })
      : await record(deps.db);
  if (!recorded) {
    // Someone else changed the game between our read and our write: say what happened.
    const current = await store.findGame(deps.db, id);
    if (current && current.status !== 'active') throw new GameError('game_over', 'The game is already over.');
    throw new GameError('stale', STALE);
  }
  const state = stateAfter(game, moves, after, recorded, now);
  await announce(deps, { kind: after.result ? 'ended' : 'moved', game: id, version: state.version, players: [seats.playerX, seats.playerO], state });
  if (after.result) analyseIfEngineJudged(deps, state);
  return state;
}

/** Ultimate games are judged by the engine once over (classic and misère by perfect play, in the view). */
function analyseIfEngineJudged(deps: GameDeps, game: Pick<GameState, 'id' | 'variant'>): void {
  if (game.variant === 'ultimate') deps.analyser.request(game.id);
}

/**
 * A finished Ultimate game shown without its analysis: asked for again (the instance that ended
 * the game may have stopped before it was done). Returns at once; watchers hear when it is stored.
 */
export function ensureAnalysis(deps: GameDeps, game: GameState): void {
  if (game.status === 'finished' && game.analysis === null && game.moves.length >= 2) analyseIfEngineJudged(deps, game);
}

/** Resigns an active game, or cancels one that nobody has joined yet. */
export function resign(deps: GameDeps, userId: number, id: string): Promise<void> {
  return asPlayer(deps, userId, id, async (tx, game, you, now) => {
    if (game.status === 'waiting') {
      const version = await store.endGame(tx, id, { status: 'aborted', result: null, reason: 'cancelled' }, now);
      return { change: { kind: 'ended', version }, value: undefined };
    }
    mustBeActive(game);
    const result = you === 'X' ? 'o_won' : 'x_won';
    const version = await store.endGame(tx, id, { status: 'finished', result, reason: 'resigned' }, now);
    await rateIfRated(tx, game, result);
    return { change: { kind: 'ended', version }, value: undefined };
  });
}

/** Wins a game whose opponent has been away for a minute on their own turn. */
export function claimVictory(deps: GameDeps, userId: number, id: string): Promise<void> {
  return asPlayer(deps, userId, id, async (tx, game, you, now) => {
    mustBeActive(game);
    const state = store.toGameState((await store.readGameState(tx, id, now))!, WAITING_EXPIRES_MS);
    const opponent = otherMark(you);
    const claimAt = isAway(state, opponent, now) ? claimableAt(state, opponent) : null;
    if (claimAt === null) throw new GameError('cannot_claim', 'You can claim victory only while your opponent is away on their turn.');
    if (claimAt > now) {
      throw new GameError('cannot_claim', `Your opponent may still come back. You can claim victory in ${Math.ceil((claimAt - now) / 1000)} s.`);
    }
    const result = you === 'X' ? 'x_won' : 'o_won';
    const version = await store.endGame(tx, id, { status: 'finished', result, reason: 'abandoned' }, now);
    await rateIfRated(tx, game, result);
    return { change: { kind: 'ended', version }, value: undefined };
  });
}

/**
 * After a game: against the computer, a new game at once with colours swapped. Against a person,
 * the first click offers and the opponent's click accepts; both are then sent to the new game.
 * Returns the new game's id, or null while the offer waits.
 */
export async function rematch(deps: GameDeps, userId: number, id: string): Promise<string | null> {
  // Against the computer playing X next, its opening is chosen before the game's row is locked.
  const seen = GAME_ID_PATTERN.test(id) ? await store.findGame(deps.db, id) : undefined;
  const opensNext = seen?.aiLevel && seen.aiMark === 'O' && seen.status === 'finished' && !seen.rematchId;
  const opening = opensNext ? await openingMove(deps, variantOf(seen.variant), seen.aiLevel!, `${id}:rematch`, userId) : null;
  return asPlayer(deps, userId, id, async (tx, game, _you, now): Promise<Outcome<string | null>> => {
    if (game.status !== 'finished') throw new GameError('cannot_rematch', 'A rematch can start once the game is over.');
    if (game.rematchId) return { change: null, value: game.rematchId };

    const vsComputer = game.mode === 'ai';
    if (!vsComputer && !(await store.allActive(tx, playerIds(game)))) {
      throw new GameError('cannot_rematch', 'Your opponent can no longer play (their account is closed), so there can be no rematch.');
    }
    const offered = game.rematchOfferedBy === game.playerX || game.rematchOfferedBy === game.playerO;
    if (!vsComputer && !offered) return { change: { kind: 'rematch-offered', version: await store.setRematchOffer(tx, id, userId, now) }, value: null };
    if (!vsComputer && game.rematchOfferedBy === userId) return { change: null, value: null };

    const nextId = newGameId();
    const variant = variantOf(game.variant);
    await store.insertGame(tx, {
      id: nextId,
      variant: variant.id,
      board: variant.serialize(variant.start()),
      mode: game.mode,
      aiLevel: game.aiLevel,
      aiMark: game.aiMark && otherMark(game.aiMark),
      createdBy: userId,
      playerX: game.playerO,
      playerO: game.playerX,
      status: 'active',
      rematchOf: id,
      now,
    });
    if (game.aiLevel && game.aiMark === 'O') await recordOpening(tx, variant, nextId, opening ?? (await openingMove(deps, variant, game.aiLevel, nextId, userId)), now);
    return { change: { kind: 'rematched', version: await store.linkRematch(tx, id, nextId, now) }, value: nextId };
  });
}

/** Aborts friend and open games nobody joined within the hour. Every instance may run it. */
export async function expireWaitingGames(deps: GameDeps): Promise<number> {
  const now = deps.clock();
  const expired = await store.expireWaitingGames(deps.db, now - WAITING_EXPIRES_MS, now);
  await announce(deps, ...expired.map((game) => endedChange(game)));
  await store.forgetOldPresence(deps.db, now - 24 * 60 * 60 * 1000);
  return expired.length;
}

function endedChange(game: { id: string; version: number; createdBy: number; mode: GameMode }): GameChange {
  return { kind: 'ended', game: game.id, version: game.version, players: [game.createdBy] };
}

/**
 * Changes an account and calls off the games nobody joined that it created, in one transaction
 * (account deletion and deactivation): nobody can join a game whose creator can no longer play.
 * @returns what `changeAccount` returned.
 */
export async function callOffWaitingGames<T>(deps: GameDeps, userId: number, changeAccount: (tx: PoolClient) => Promise<T>): Promise<T> {
  const now = deps.clock();
  const { value, calledOff } = await inTransaction(deps.db, async (tx) => ({
    value: await changeAccount(tx),
    calledOff: await store.callOffWaitingGames(tx, userId, now),
  }));
  await announce(deps, ...calledOff.map((game) => endedChange(game)));
  return value;
}

/**
 * A player of the game came or went: only what watchers see changes (who is away), so the event
 * carries no version and watchers re-read the game.
 */
export function announcePresence(deps: Pick<GameDeps, 'bus'>, gameId: string): Promise<void> {
  return publishChanges(deps.bus, [{ kind: 'presence', game: gameId, version: 0, players: [] }]);
}

/** How often a player's page loads are saved as presence at most. */
const PAGE_SAVE_EVERY_MS = 5_000;

/**
 * Someone loaded the page of `game`. A player's load of an active game is presence (see
 * presence.ts: play without JavaScript counts as being there): it is saved, watchers are told, and
 * the game is returned as it now is.
 */
export async function seenOnPage(deps: GameDeps, viewerId: number | null, game: GameState): Promise<GameState> {
  const seat = markOf(game, viewerId);
  if (!seat || game.status !== 'active') return game;
  const now = deps.clock();
  const away = game.awaySince[seat];
  // A live socket already counts; so does a load in the last PAGE_SAVE_EVERY_MS (a storm of
  // reloads costs one write and one notice per interval, not one per load).
  if (away === null || away >= now + PAGE_PRESENCE_MS - PAGE_SAVE_EVERY_MS) return game;
  await store.savePagePresence(deps.db, game.id, viewerId!, now);
  await announcePresence(deps, game.id);
  return { ...game, awaySince: { ...game.awaySince, [seat]: Math.max(away, now + PAGE_PRESENCE_MS) } };
}
