/**
 * The view model of a game (src/game/view.ts): what each kind of viewer sees for each state of a
 * game. Pure, so every case is a GameState fixture, a viewer and a clock.
 */
import { describe, expect, it } from 'vitest';
import type { Level } from '../../src/game/ai.js';
import type { GameState } from '../../src/game/model.js';
import {
  WAITING_NAME,
  announced,
  announcement,
  detailKey,
  viewGame,
  type GameView,
} from '../../src/game/view.js';
import { ALICE, BOB, gameState, NOW } from '../helpers/game-state.js';
import { classic } from '../../src/game/variants/classic.js';
import { ultimate } from '../../src/game/variants/ultimate.js';
import { refusal } from '../../src/client/game/board.js';

const CAROL = 3;
/** Who looks at the game: the two players, a signed-in spectator and a signed-out visitor. */
const VIEWERS = { alice: ALICE.id, bob: BOB.id, carol: CAROL, visitor: null } as const;
type Viewer = keyof typeof VIEWERS;

/** An active game between alice (X) and bob (O), both connected, unless told otherwise. */
const game = gameState;

function waiting(mode: 'friend' | 'open', creator: 'X' | 'O', overrides: Partial<GameState> = {}): GameState {
  const creatorPlayer = creator === 'X' ? ALICE : BOB;
  return game({
    mode,
    status: 'waiting',
    createdBy: creatorPlayer.id,
    players: creator === 'X' ? { X: ALICE, O: null } : { X: null, O: BOB },
    turnStartedAt: null,
    expiresAt: NOW + 3_600_000,
    ...overrides,
  });
}

function finished(moves: number[], result: GameState['result'], reason: GameState['reason'], overrides: Partial<GameState> = {}): GameState {
  return game({ status: 'finished', result, reason, moves, turnStartedAt: null, ...overrides });
}

function vsComputer(level: Level, moves: number[], human: 'X' | 'O' = 'X', overrides: Partial<GameState> = {}): GameState {
  const computer = { id: null, name: `Computer (${level === 'easy' ? 'Easy' : level === 'medium' ? 'Medium' : 'Perfect'})` };
  return game({
    mode: 'ai',
    aiLevel: level,
    players: human === 'X' ? { X: ALICE, O: computer } : { X: computer, O: ALICE },
    moves,
    ...overrides,
  });
}

function view(state: GameState, viewer: Viewer, now = NOW, options: { replayPly?: number } = {}): GameView {
  return viewGame(state, VIEWERS[viewer], now, options);
}

/** The buttons and words a viewer is offered, to compare whole rows of expectations at once. */
function summary(v: GameView) {
  return {
    you: v.you,
    status: v.status,
    statusText: v.statusText,
    detail: v.detail,
    canJoin: v.canJoin,
    canResign: v.canResign,
    canCancel: v.canCancel,
    canClaim: v.canClaim,
    canRematch: v.canRematch,
    rematchOffered: v.rematchOffered,
    showInvite: v.showInvite,
    canHint: v.canHint,
    title: v.title,
  };
}

const NOTHING = {
  detail: '',
  canJoin: false,
  canResign: false,
  canCancel: false,
  canClaim: false,
  canRematch: false,
  rematchOffered: false,
  showInvite: false,
  canHint: false,
};

const INVITE = 'Send the invite link to a friend. The game starts when they join.';

// X 4, O 1 (a losing edge), X 0, O 8, X 6, O 2, X 3: X completes the left column.
const X_WINS_BY_LINE = [4, 1, 0, 8, 6, 2, 3];
const DRAWN = [4, 0, 8, 2, 1, 7, 6, 3, 5];

describe('cellName', () => {
  it.each([
    [0, 'row 1, column 1'],
    [1, 'row 1, column 2'],
    [2, 'row 1, column 3'],
    [3, 'row 2, column 1'],
    [4, 'row 2, column 2'],
    [5, 'row 2, column 3'],
    [6, 'row 3, column 1'],
    [7, 'row 3, column 2'],
    [8, 'row 3, column 3'],
  ])('names cell %i "%s"', (cell, name) => {
    expect(classic.cellName(cell)).toBe(name);
  });
});

describe('the fixtures', () => {
  it('builds the boards the moves leave', () => {
    expect(game({ moves: X_WINS_BY_LINE }).board).toBe('XOOXX.X.O');
    expect(game({ moves: DRAWN }).board).toBe('OXOOXXXOX');
    expect(game({ moves: [4, 5] }).ply).toBe(2);
  });
});

describe('viewGame: every status for every viewer', () => {
  const rows: [string, GameState, Viewer, ReturnType<typeof summary>][] = [
    // A friend game alice created as X, waiting for the friend.
    ['friend game waiting', waiting('friend', 'X'), 'alice', {
      ...NOTHING, you: 'X', status: 'waiting', statusText: 'Waiting for an opponent', detail: INVITE,
      canCancel: true, showInvite: true, title: 'Waiting for an opponent · New game',
    }],
    ['friend game waiting', waiting('friend', 'X'), 'carol', {
      ...NOTHING, you: null, status: 'waiting', statusText: 'Waiting for a second player', canJoin: true,
      title: 'Waiting for a second player · alice vs …',
    }],
    ['friend game waiting', waiting('friend', 'X'), 'visitor', {
      ...NOTHING, you: null, status: 'waiting', statusText: 'Waiting for a second player',
      title: 'Waiting for a second player · alice vs …',
    }],
    // An open game bob created as O, listed in the lobby: no invite to send.
    ['open game waiting', waiting('open', 'O'), 'bob', {
      ...NOTHING, you: 'O', status: 'waiting', statusText: 'Waiting for an opponent', canCancel: true,
      title: 'Waiting for an opponent · New game',
    }],
    ['open game waiting', waiting('open', 'O'), 'alice', {
      ...NOTHING, you: null, status: 'waiting', statusText: 'Waiting for a second player', canJoin: true,
      title: 'Waiting for a second player · … vs bob',
    }],
    ['open game waiting', waiting('open', 'O'), 'visitor', {
      ...NOTHING, you: null, status: 'waiting', statusText: 'Waiting for a second player',
      title: 'Waiting for a second player · … vs bob',
    }],
    // X to move.
    ['X to move', game({ moves: [4, 5] }), 'alice', {
      ...NOTHING, you: 'X', status: 'your-turn', statusText: 'Your turn', canResign: true, title: 'Your turn · Game against bob',
    }],
    ['X to move', game({ moves: [4, 5] }), 'bob', {
      ...NOTHING, you: 'O', status: 'their-turn', statusText: "alice's turn", canResign: true,
      title: "alice's turn · Game against alice",
    }],
    ['X to move', game({ moves: [4, 5] }), 'carol', {
      ...NOTHING, you: null, status: 'x-turn', statusText: 'alice (X) to move', title: 'alice (X) to move · alice vs bob',
    }],
    ['X to move', game({ moves: [4, 5] }), 'visitor', {
      ...NOTHING, you: null, status: 'x-turn', statusText: 'alice (X) to move', title: 'alice (X) to move · alice vs bob',
    }],
    // O to move.
    ['O to move', game({ moves: [4] }), 'alice', {
      ...NOTHING, you: 'X', status: 'their-turn', statusText: "bob's turn", canResign: true, title: "bob's turn · Game against bob",
    }],
    ['O to move', game({ moves: [4] }), 'bob', {
      ...NOTHING, you: 'O', status: 'your-turn', statusText: 'Your turn', canResign: true, title: 'Your turn · Game against alice',
    }],
    ['O to move', game({ moves: [4] }), 'carol', {
      ...NOTHING, you: null, status: 'o-turn', statusText: 'bob (O) to move', title: 'bob (O) to move · alice vs bob',
    }],
    ['O to move', game({ moves: [4] }), 'visitor', {
      ...NOTHING, you: null, status: 'o-turn', statusText: 'bob (O) to move', title: 'bob (O) to move · alice vs bob',
    }],
    // X won with three in a row.
    ['X won by a line', finished(X_WINS_BY_LINE, 'x_won', 'line'), 'alice', {
      ...NOTHING, you: 'X', status: 'won', statusText: 'You won', canRematch: true, title: 'You won · Game against bob',
    }],
    ['X won by a line', finished(X_WINS_BY_LINE, 'x_won', 'line'), 'bob', {
      ...NOTHING, you: 'O', status: 'lost', statusText: 'You lost', canRematch: true, title: 'You lost · Game against alice',
    }],
    ['X won by a line', finished(X_WINS_BY_LINE, 'x_won', 'line'), 'carol', {
      ...NOTHING, you: null, status: 'x-won', statusText: 'alice (X) won', title: 'alice (X) won · alice vs bob',
    }],
    ['X won by a line', finished(X_WINS_BY_LINE, 'x_won', 'line'), 'visitor', {
      ...NOTHING, you: null, status: 'x-won', statusText: 'alice (X) won', title: 'alice (X) won · alice vs bob',
    }],
    // alice (X) resigned.
    ['O won by resignation', finished([4, 0], 'o_won', 'resigned'), 'alice', {
      ...NOTHING, you: 'X', status: 'lost', statusText: 'You lost by resignation', canRematch: true,
      title: 'You lost by resignation · Game against bob',
    }],
    ['O won by resignation', finished([4, 0], 'o_won', 'resigned'), 'bob', {
      ...NOTHING, you: 'O', status: 'won', statusText: 'You won by resignation', canRematch: true,
      title: 'You won by resignation · Game against alice',
    }],
    ['O won by resignation', finished([4, 0], 'o_won', 'resigned'), 'carol', {
      ...NOTHING, you: null, status: 'o-won', statusText: 'bob (O) won by resignation',
      title: 'bob (O) won by resignation · alice vs bob',
    }],
    ['O won by resignation', finished([4, 0], 'o_won', 'resigned'), 'visitor', {
      ...NOTHING, you: null, status: 'o-won', statusText: 'bob (O) won by resignation',
      title: 'bob (O) won by resignation · alice vs bob',
    }],
    // A full board.
    ['draw', finished(DRAWN, 'draw', 'full'), 'alice', {
      ...NOTHING, you: 'X', status: 'draw', statusText: 'Draw', canRematch: true, title: 'Draw · Game against bob',
    }],
    ['draw', finished(DRAWN, 'draw', 'full'), 'bob', {
      ...NOTHING, you: 'O', status: 'draw', statusText: 'Draw', canRematch: true, title: 'Draw · Game against alice',
    }],
    ['draw', finished(DRAWN, 'draw', 'full'), 'carol', {
      ...NOTHING, you: null, status: 'draw', statusText: 'Draw', title: 'Draw · alice vs bob',
    }],
    ['draw', finished(DRAWN, 'draw', 'full'), 'visitor', {
      ...NOTHING, you: null, status: 'draw', statusText: 'Draw', title: 'Draw · alice vs bob',
    }],
    // bob (O) left on his turn and alice claimed the victory.
    ['X won by a claim', finished([4, 0, 8], 'x_won', 'abandoned'), 'alice', {
      ...NOTHING, you: 'X', status: 'won', statusText: 'You won because the opponent left', canRematch: true,
      title: 'You won because the opponent left · Game against bob',
    }],
    ['X won by a claim', finished([4, 0, 8], 'x_won', 'abandoned'), 'bob', {
      ...NOTHING, you: 'O', status: 'lost', statusText: 'You lost because the opponent left', canRematch: true,
      title: 'You lost because the opponent left · Game against alice',
    }],
    ['X won by a claim', finished([4, 0, 8], 'x_won', 'abandoned'), 'carol', {
      ...NOTHING, you: null, status: 'x-won', statusText: 'alice (X) won because the opponent left',
      title: 'alice (X) won because the opponent left · alice vs bob',
    }],
    ['X won by a claim', finished([4, 0, 8], 'x_won', 'abandoned'), 'visitor', {
      ...NOTHING, you: null, status: 'x-won', statusText: 'alice (X) won because the opponent left',
      title: 'alice (X) won because the opponent left · alice vs bob',
    }],
    // Nobody joined alice's friend game within the hour.
    ['expired', waiting('friend', 'X', { status: 'aborted', reason: 'expired' }), 'alice', {
      ...NOTHING, you: 'X', status: 'aborted', statusText: 'Nobody joined in time', title: 'Nobody joined in time · New game',
    }],
    ['expired', waiting('friend', 'X', { status: 'aborted', reason: 'expired' }), 'carol', {
      ...NOTHING, you: null, status: 'aborted', statusText: 'Nobody joined in time',
      title: 'Nobody joined in time · alice vs …',
    }],
    ['expired', waiting('friend', 'X', { status: 'aborted', reason: 'expired' }), 'visitor', {
      ...NOTHING, you: null, status: 'aborted', statusText: 'Nobody joined in time',
      title: 'Nobody joined in time · alice vs …',
    }],
    // bob cancelled his open game.
    ['cancelled', waiting('open', 'O', { status: 'aborted', reason: 'cancelled' }), 'bob', {
      ...NOTHING, you: 'O', status: 'aborted', statusText: 'Game cancelled', title: 'Game cancelled · New game',
    }],
    ['cancelled', waiting('open', 'O', { status: 'aborted', reason: 'cancelled' }), 'carol', {
      ...NOTHING, you: null, status: 'aborted', statusText: 'Game cancelled', title: 'Game cancelled · … vs bob',
    }],
    ['cancelled', waiting('open', 'O', { status: 'aborted', reason: 'cancelled' }), 'visitor', {
      ...NOTHING, you: null, status: 'aborted', statusText: 'Game cancelled', title: 'Game cancelled · … vs bob',
    }],
  ];

  it.each(rows)('%s, seen by %s', (_label, state, viewer, expected) => {
    expect(summary(view(state, viewer))).toEqual(expected);
  });

  it.each([
    ['waiting', waiting('friend', 'X'), ['alice', WAITING_NAME]],
    ['waiting for X', waiting('open', 'O'), [WAITING_NAME, 'bob']],
    ['aborted', waiting('friend', 'X', { status: 'aborted', reason: 'expired' }), ['alice', '—']],
    ['active', game({ moves: [4] }), ['alice', 'bob']],
  ])('names the seats of a %s game', (_label, state, names) => {
    expect(view(state, 'carol').players.map((p) => p.name)).toEqual(names);
  });

  it('marks the viewer and the player to move in the player list', () => {
    expect(view(game({ moves: [4] }), 'bob').players).toEqual([
      { mark: 'X', name: 'alice', you: false, away: false, turn: false },
      { mark: 'O', name: 'bob', you: true, away: false, turn: true },
    ]);
    // Nobody has the turn once the game is over.
    expect(view(finished(X_WINS_BY_LINE, 'x_won', 'line'), 'alice').players.map((p) => p.turn)).toEqual([false, false]);
    expect(view(waiting('friend', 'X'), 'alice').players.map((p) => p.turn)).toEqual([false, false]);
  });

  it('carries the version and ply of the game', () => {
    const v = view(game({ moves: [4, 5, 0], version: 12 }), 'carol');
    expect(v.version).toBe(12);
    expect(v.ply).toBe(3);
  });
});

describe('viewGame: cells', () => {
  it('names every cell with its row, column and mark', () => {
    // X 4, O 5, X 0: O to move.
    const v = view(game({ moves: [4, 5, 0] }), 'carol');
    expect(v.cells.map((c) => c.label)).toEqual([
      'Row 1, column 1, X',
      'Row 1, column 2, empty',
      'Row 1, column 3, empty',
      'Row 2, column 1, empty',
      'Row 2, column 2, X',
      'Row 2, column 3, O',
      'Row 3, column 1, empty',
      'Row 3, column 2, empty',
      'Row 3, column 3, empty',
    ]);
    expect(v.cells.map((c) => c.mark)).toEqual(['X', '', '', '', 'X', 'O', '', '', '']);
  });

  const empties = [1, 2, 3, 6, 7, 8];
  it.each([
    ['the player to move', game({ moves: [4, 5, 0] }), 'bob', empties],
    ['the player waiting for the move', game({ moves: [4, 5, 0] }), 'alice', []],
    ['a spectator', game({ moves: [4, 5, 0] }), 'carol', []],
    ['a visitor', game({ moves: [4, 5, 0] }), 'visitor', []],
    ['a winner looking at the final board', finished(X_WINS_BY_LINE, 'x_won', 'line'), 'bob', []],
    ['the creator of a waiting game', waiting('friend', 'X'), 'alice', []],
    ['the player after a resignation on their turn', finished([4, 5, 0], 'x_won', 'resigned'), 'bob', []],
  ] as const)('lets %s play exactly the empty cells it may', (_label, state, viewer, playable) => {
    const cells = view(state, viewer).cells;
    expect(cells.flatMap((c, i) => (c.playable ? [i] : []))).toEqual(playable);
  });

  it.each([
    ['X won by a line', finished(X_WINS_BY_LINE, 'x_won', 'line'), [0, 3, 6], 3],
    ['O won by a diagonal', finished([0, 2, 1, 4, 8, 6], 'o_won', 'line'), [2, 4, 6], 6],
    ['a draw', finished(DRAWN, 'draw', 'full'), [], 5],
    ['a resignation', finished([4, 0], 'o_won', 'resigned'), [], 0],
    ['an active game', game({ moves: [4, 5, 0] }), [], 0],
  ])('%s: highlights the winning line and the last move', (_label, state, line, last) => {
    const cells = view(state, 'carol').cells;
    expect(cells.flatMap((c, i) => (c.win ? [i] : []))).toEqual(line);
    expect(cells.flatMap((c, i) => (c.last ? [i] : []))).toEqual([last]);
  });

  it('marks no last move on an empty board', () => {
    expect(view(game(), 'alice').cells.some((c) => c.last)).toBe(false);
    expect(view(waiting('open', 'O'), 'bob').cells.some((c) => c.last)).toBe(false);
  });
});

describe('viewGame: the list of moves', () => {
  it('writes each move in words, without verdicts while the game runs', () => {
    const v = view(game({ moves: [4, 5, 0] }), 'alice');
    expect(v.moves).toEqual([
      { text: 'X: row 2, column 2', name: 'row 2, column 2', mark: 'X', cell: 4, verdict: null, mistake: false, firstMistake: false, current: false },
      { text: 'O: row 2, column 3', name: 'row 2, column 3', mark: 'O', cell: 5, verdict: null, mistake: false, firstMistake: false, current: false },
      { text: 'X: row 1, column 1', name: 'row 1, column 1', mark: 'X', cell: 0, verdict: null, mistake: false, firstMistake: false, current: false },
    ]);
    expect(v.replay).toBeNull();
  });

  it('judges the moves of a finished game and marks the first mistake', () => {
    const v = view(finished(X_WINS_BY_LINE, 'x_won', 'line'), 'carol');
    // O's edge reply to the centre (move 2) loses a drawn game; X then keeps the win.
    expect(v.moves[0]).toMatchObject({ verdict: 'kept the draw', mistake: false, firstMistake: false });
    expect(v.moves[1]).toMatchObject({ mark: 'O', cell: 1, verdict: 'lost a drawn game', mistake: true, firstMistake: true });
    expect(v.moves[2]).toMatchObject({ mark: 'X', verdict: 'kept the win', firstMistake: false });
    expect(v.moves.filter((m) => m.firstMistake)).toHaveLength(1);
  });

  it('has no replay for a game without moves', () => {
    expect(view(waiting('friend', 'X', { status: 'aborted', reason: 'expired' }), 'alice').replay).toBeNull();
    expect(view(finished([], 'o_won', 'resigned'), 'alice').replay).toBeNull();
  });
});

describe('viewGame: replay of a finished game', () => {
  const over = finished(X_WINS_BY_LINE, 'x_won', 'line');

  it.each([
    // [replayPly, shown ply, board after that many moves, last cell]
    [undefined, 7, 'XOOXX.X.O', 3],
    [0, 0, '.........', null],
    [1, 1, '....X....', 4],
    [3, 3, 'XO..X....', 0],
    [6, 6, 'XOO.X.X.O', 2],
    [7, 7, 'XOOXX.X.O', 3],
    [99, 7, 'XOOXX.X.O', 3],
    [-5, 0, '.........', null],
  ])('replayPly %s shows the position after %i moves', (replayPly, ply, board, last) => {
    const v = view(over, 'alice', NOW, replayPly === undefined ? {} : { replayPly });
    expect(v.cells.map((c) => c.mark || '.').join('')).toBe(board);
    expect(v.replay).toEqual({ ply, total: 7 });
    expect(v.cells.flatMap((c, i) => (c.last ? [i] : []))).toEqual(last === null ? [] : [last]);
    expect(v.moves.flatMap((m, i) => (m.current ? [i] : []))).toEqual(ply === 0 ? [] : [ply - 1]);
    // The list of moves stays whole and the status is the result.
    expect(v.moves).toHaveLength(7);
    expect(v.statusText).toBe('You won');
    expect(v.cells.some((c) => c.playable)).toBe(false);
  });

  it('shows the winning line only once it is on the board', () => {
    expect(view(over, 'carol', NOW, { replayPly: 6 }).cells.some((c) => c.win)).toBe(false);
    expect(view(over, 'carol', NOW, { replayPly: 7 }).cells.flatMap((c, i) => (c.win ? [i] : []))).toEqual([0, 3, 6]);
  });

  it('labels the replayed cells by what is on them then', () => {
    const cells = view(over, 'carol', NOW, { replayPly: 3 }).cells;
    expect(cells[0]!.label).toBe('Row 1, column 1, X');
    expect(cells[3]!.label).toBe('Row 2, column 1, empty');
  });

  it('ignores replayPly in an active game', () => {
    const v = view(game({ moves: [4, 5, 0] }), 'bob', NOW, { replayPly: 1 });
    expect(v.cells.map((c) => c.mark || '.').join('')).toBe('X...XO...');
    expect(v.replay).toBeNull();
    expect(v.moves.some((m) => m.current)).toBe(false);
    expect(v.cells.flatMap((c, i) => (c.last ? [i] : []))).toEqual([0]);
    expect(v.cells.filter((c) => c.playable)).toHaveLength(6);
  });
});

describe('viewGame: games against the computer', () => {
  it.each([
    ['easy', 'Computer (Easy)', true],
    ['medium', 'Computer (Medium)', true],
    ['perfect', 'Computer (Perfect)', false],
  ] as const)('at %s offers a hint: %s', (level, name, hint) => {
    const state = vsComputer(level, [4, 0]);
    const v = view(state, 'alice');
    expect(summary(v)).toEqual({
      ...NOTHING,
      you: 'X',
      status: 'your-turn',
      statusText: 'Your turn',
      canResign: true,
      canHint: hint,
      title: `Your turn · Game against ${name}`,
    });
    expect(view(state, 'carol')).toMatchObject({ canHint: false, statusText: 'alice (X) to move', title: `alice (X) to move · alice vs ${name}` });
  });

  it('offers no hint while the computer is to move', () => {
    const v = view(vsComputer('easy', [4]), 'alice');
    expect(v).toMatchObject({ status: 'their-turn', statusText: "Computer (Easy)'s turn", canHint: false });
    expect(v.cells.some((c) => c.playable)).toBe(false);
  });

  it('gives a human playing O the turn after the computer opened', () => {
    const v = view(vsComputer('medium', [4], 'O'), 'alice');
    expect(v).toMatchObject({ you: 'O', status: 'your-turn', canHint: true, title: 'Your turn · Game against Computer (Medium)' });
    expect(v.players).toEqual([
      { mark: 'X', name: 'Computer (Medium)', you: false, away: false, turn: false },
      { mark: 'O', name: 'alice', you: true, away: false, turn: true },
    ]);
  });

  it('offers a rematch against the computer and names it in the result for spectators', () => {
    const state = vsComputer('perfect', [0, 4, 8, 2, 6, 3, 7], 'O', { status: 'finished', result: 'x_won', reason: 'line', turnStartedAt: null });
    expect(summary(view(state, 'alice'))).toEqual({
      ...NOTHING,
      you: 'O',
      status: 'lost',
      statusText: 'You lost',
      canRematch: true,
      title: 'You lost · Game against Computer (Perfect)',
    });
    expect(view(state, 'visitor').statusText).toBe('Computer (Perfect) (X) won');
  });

  it('never shows the computer as away, nor lets anyone claim against it', () => {
    // Stored data should never give the computer's seat a time, but the view must not trust it.
    const state = vsComputer('perfect', [4], 'X', { awaySince: { X: null, O: NOW - 120_000 }, turnStartedAt: NOW - 120_000 });
    const v = view(state, 'alice');
    expect(v.players[1]!.away).toBe(false);
    expect(v).toMatchObject({ canClaim: false, claimAt: null, detail: '' });
  });

  // BUG: a human away on their own turn against the computer is told that the computer "can claim
  // victory", but only a signed-in player can claim (service.claimVictory) and the computer never does.
  it('does not tell a human that the computer can claim victory', () => {
    const state = vsComputer('perfect', [4, 0], 'X', { awaySince: { X: NOW - 10_000, O: null }, turnStartedAt: NOW - 20_000 });
    expect(view(state, 'alice').detail).toBe('');
  });
});

describe('viewGame: rematch', () => {
  const over = (rematch: GameState['rematch']) => finished(X_WINS_BY_LINE, 'x_won', 'line', { rematch });

  it.each([
    ['offered by alice', { offeredBy: ALICE.id, nextId: null }, 'alice',
      { rematchOffered: true, canRematch: false, rematchId: null, detail: 'Rematch offered. Waiting for bob to accept.' }],
    ['offered by alice', { offeredBy: ALICE.id, nextId: null }, 'bob',
      { rematchOffered: false, canRematch: true, rematchId: null, detail: 'alice wants a rematch.' }],
    ['offered by alice', { offeredBy: ALICE.id, nextId: null }, 'carol',
      { rematchOffered: false, canRematch: false, rematchId: null, detail: '' }],
    ['offered by alice', { offeredBy: ALICE.id, nextId: null }, 'visitor',
      { rematchOffered: false, canRematch: false, rematchId: null, detail: '' }],
    ['offered by bob', { offeredBy: BOB.id, nextId: null }, 'bob',
      { rematchOffered: true, canRematch: false, rematchId: null, detail: 'Rematch offered. Waiting for alice to accept.' }],
    ['offered by bob', { offeredBy: BOB.id, nextId: null }, 'alice',
      { rematchOffered: false, canRematch: true, rematchId: null, detail: 'bob wants a rematch.' }],
    ['accepted', { offeredBy: ALICE.id, nextId: 'next1' }, 'bob',
      { rematchOffered: false, canRematch: false, rematchId: 'next1', detail: '' }],
    ['accepted', { offeredBy: ALICE.id, nextId: 'next1' }, 'carol',
      { rematchOffered: false, canRematch: false, rematchId: 'next1', detail: '' }],
    // Against the computer the rematch starts at once, with no offer.
    ['started', { offeredBy: null, nextId: 'next1' }, 'alice',
      { rematchOffered: false, canRematch: false, rematchId: 'next1', detail: '' }],
    ['not offered', { offeredBy: null, nextId: null }, 'alice',
      { rematchOffered: false, canRematch: true, rematchId: null, detail: '' }],
  ] as const)('rematch %s, seen by %s', (_label, rematch, viewer, expected) => {
    expect(view(over(rematch), viewer)).toMatchObject(expected);
  });

  it('says "Your opponent" when the opponent has no name to show', () => {
    // A finished game read with the opponent's seat missing (e.g. a deleted account).
    const state = finished(X_WINS_BY_LINE, 'x_won', 'line', { players: { X: ALICE, O: null }, rematch: { offeredBy: 99, nextId: null } });
    expect(view(state, 'alice').detail).toBe('Your opponent wants a rematch.');
  });

  // BUG: once bob accepts (rematch_id is set; store.linkRematch keeps rematch_offered_by), alice,
  // who offered, is still told she waits for him, next to the "Go to the rematch" link.
  it('no longer says the offerer waits once the rematch is accepted', () => {
    const v = view(over({ offeredBy: ALICE.id, nextId: 'next1' }), 'alice');
    expect(v.rematchId).toBe('next1');
    expect(v.canRematch).toBe(false);
    expect(v.detail).toBe('');
    expect(v.rematchOffered).toBe(false);
  });

  it('offers no rematch while the game runs, even with a stale offer', () => {
    const v = view(game({ moves: [4], rematch: { offeredBy: BOB.id, nextId: null } }), 'alice');
    expect(v).toMatchObject({ canRematch: false, rematchOffered: false, detail: '' });
  });
});

describe('viewGame: an absent player and Claim victory', () => {
  // alice (X) played the centre at NOW - 20 s; it is bob's (O's) turn since then.
  const oToMove = (awaySince: GameState['awaySince'], turnStartedAt = NOW - 20_000) =>
    game({ moves: [4], awaySince, turnStartedAt });

  it.each([
    // [bob away since, turn started, now, detail seen by alice, canClaim, claimAt, refreshAt]
    ['just left', NOW - 10_000, NOW - 20_000, NOW, 'bob has left. You can claim victory in 50 s.', false, NOW + 50_000, NOW + 1_000],
    ['half a second into a second', NOW - 10_500, NOW - 20_000, NOW, 'bob has left. You can claim victory in 50 s.', false, NOW + 49_500, NOW + 500],
    ['left before his turn began', NOW - 50_000, NOW - 5_000, NOW, 'bob has left. You can claim victory in 55 s.', false, NOW + 55_000, NOW + 1_000],
    ['one second to go', NOW - 59_000, NOW - 70_000, NOW, 'bob has left. You can claim victory in 1 s.', false, NOW + 1_000, NOW + 1_000],
    ['a millisecond to go', NOW - 59_999, NOW - 70_000, NOW, 'bob has left. You can claim victory in 1 s.', false, NOW + 1, NOW + 1],
    ['gone exactly a minute', NOW - 60_000, NOW - 70_000, NOW, 'bob has left. You can claim victory.', true, NOW, null],
    ['gone for long', NOW - 600_000, NOW - 700_000, NOW, 'bob has left. You can claim victory.', true, NOW - 540_000, null],
  ])('bob %s: alice sees the countdown, then Claim victory', (_label, since, turnStartedAt, now, detail, canClaim, claimAt, refreshAt) => {
    const v = view(oToMove({ X: null, O: since }, turnStartedAt), 'alice', now);
    expect(v).toMatchObject({ detail, canClaim, claimAt, refreshAt });
    expect(v.players.map((p) => p.away)).toEqual([false, true]);
  });

  it('counts down one second at a time', () => {
    const state = oToMove({ X: null, O: NOW - 10_000 });
    const details = [0, 999, 1_000, 1_001, 49_000, 49_999, 50_000].map((t) => view(state, 'alice', NOW + t).detail);
    expect(details).toEqual([
      'bob has left. You can claim victory in 50 s.',
      'bob has left. You can claim victory in 50 s.',
      'bob has left. You can claim victory in 49 s.',
      'bob has left. You can claim victory in 49 s.',
      'bob has left. You can claim victory in 1 s.',
      'bob has left. You can claim victory in 1 s.',
      'bob has left. You can claim victory.',
    ]);
  });

  it.each([
    // [bob away since, turn started, now, detail seen by bob, refreshAt]
    ['just left', NOW - 10_000, NOW - 20_000, NOW, 'You seem to be away: alice can claim victory in 50 s. Make your move.', NOW + 1_000],
    ['half a second into a second', NOW - 10_500, NOW - 20_000, NOW, 'You seem to be away: alice can claim victory in 50 s. Make your move.', NOW + 500],
    ['away since before his turn', NOW - 50_000, NOW - 20_000, NOW, 'You seem to be away: alice can claim victory in 40 s. Make your move.', NOW + 1_000],
    ['gone a minute', NOW - 60_000, NOW - 70_000, NOW, 'You seem to be away: alice can claim victory now. Make your move.', null],
  ])('bob %s: bob himself is told how long he has', (_label, since, turnStartedAt, now, detail, refreshAt) => {
    const v = view(oToMove({ X: null, O: since }, turnStartedAt), 'bob', now);
    expect(v).toMatchObject({ detail, refreshAt, canClaim: false, claimAt: null, status: 'your-turn' });
    expect(v.players.map((p) => p.away)).toEqual([false, true]);
    expect(v.cells.filter((c) => c.playable)).toHaveLength(8);
  });

  it.each(['carol', 'visitor'] as const)('%s sees bob away but is offered no claim', (viewer) => {
    const v = view(oToMove({ X: null, O: NOW - 600_000 }), viewer);
    expect(v).toMatchObject({ detail: '', canClaim: false, claimAt: null });
    expect(v.players.map((p) => p.away)).toEqual([false, true]);
  });

  it('offers no claim against a player who is away when it is not their turn', () => {
    // X to move; bob (O) left long ago.
    const state = game({ moves: [4, 0], awaySince: { X: null, O: NOW - 600_000 }, turnStartedAt: NOW - 700_000 });
    const v = view(state, 'alice');
    expect(v).toMatchObject({ detail: '', canClaim: false, claimAt: null, refreshAt: null, status: 'your-turn' });
    expect(v.players.map((p) => p.away)).toEqual([false, true]);
  });

  it('offers no claim against a connected player, however long they think', () => {
    const v = view(oToMove({ X: null, O: null }, NOW - 3_600_000), 'alice');
    expect(v).toMatchObject({ detail: '', canClaim: false, claimAt: null, refreshAt: null });
    expect(v.players.map((p) => p.away)).toEqual([false, false]);
  });

  it.each([
    ['finished', finished([4, 0, 8], 'x_won', 'resigned', { awaySince: { X: null, O: NOW - 600_000 }, turnStartedAt: NOW - 600_000 })],
    ['waiting', waiting('friend', 'X', { awaySince: { X: NOW - 600_000, O: null } })],
    ['aborted', waiting('friend', 'X', { status: 'aborted', reason: 'cancelled', awaySince: { X: NOW - 600_000, O: null } })],
  ])('shows nobody away and offers no claim in a %s game', (_label, state) => {
    for (const viewer of ['alice', 'bob', 'carol'] as const) {
      const v = view(state, viewer);
      expect(v.players.map((p) => p.away)).toEqual([false, false]);
      expect(v).toMatchObject({ canClaim: false, claimAt: null, refreshAt: null });
      expect(v.detail).not.toMatch(/away|left|claim/);
    }
  });

  describe('a player kept present by page loads (awaySince in the future)', () => {
    // bob plays without JavaScript: his last page load keeps him present until NOW + 20 s.
    const state = oToMove({ X: null, O: NOW + 20_000 });

    it('is not shown away, to anyone', () => {
      for (const viewer of ['alice', 'bob', 'carol', 'visitor'] as const) {
        expect(view(state, viewer).players.map((p) => p.away)).toEqual([false, false]);
      }
    });

    it('cannot be claimed against before a minute after his presence ends', () => {
      expect(view(state, 'alice', NOW + 79_999).canClaim).toBe(false);
      expect(view(state, 'alice', NOW + 80_000)).toMatchObject({ canClaim: true, detail: 'bob has left. You can claim victory.' });
    });

    it('is counted down from once his presence ends', () => {
      expect(view(state, 'alice', NOW + 20_000)).toMatchObject({
        detail: 'bob has left. You can claim victory in 60 s.',
        canClaim: false,
        refreshAt: NOW + 21_000,
      });
      expect(view(state, 'alice', NOW + 20_000).players[1]!.away).toBe(true);
    });

    it('is not warned himself, and his view changes when his presence ends', () => {
      expect(view(state, 'bob')).toMatchObject({ detail: '', canClaim: false, refreshAt: NOW + 20_000 });
      expect(view(state, 'bob', NOW + 20_000).detail).toBe('You seem to be away: alice can claim victory in 60 s. Make your move.');
    });

    it('redraws a spectator when he goes away', () => {
      expect(view(state, 'carol').refreshAt).toBe(NOW + 20_000);
    });

    // BUG: the opponent's view takes the claim moment (awaySince + 60 s) without checking that bob
    // is away yet, so while bob is still present alice reads "bob has left. You can claim victory
    // in 80 s." (while his name is not marked away), and the view redraws every second for it.
    it('is not announced as gone to his opponent while he is present', () => {
      const v = view(state, 'alice');
      expect(v.detail).toBe('');
      expect(v.refreshAt).toBe(NOW + 20_000);
    });
  });

  it('redraws when a player who is not to move goes away', () => {
    // X to move, alice present; bob (O) present through NOW + 5 s.
    const state = game({ moves: [4, 0], awaySince: { X: null, O: NOW + 5_000 } });
    expect(view(state, 'alice').refreshAt).toBe(NOW + 5_000);
    expect(view(state, 'alice', NOW + 5_000)).toMatchObject({ refreshAt: null, detail: '' });
    expect(view(state, 'alice', NOW + 5_000).players[1]!.away).toBe(true);
  });

  it('has nothing to redraw for when both players are connected', () => {
    expect(view(game({ moves: [4] }), 'alice').refreshAt).toBeNull();
    expect(view(finished(DRAWN, 'draw', 'full'), 'alice').refreshAt).toBeNull();
  });
});

describe('detailKey and announced', () => {
  it.each([
    ['bob has left. You can claim victory in 42 s.', 'bob has left. You can claim victory in # s.'],
    ['bob has left. You can claim victory in 5 s.', 'bob has left. You can claim victory in # s.'],
    ['bob has left. You can claim victory.', 'bob has left. You can claim victory.'],
    ['', ''],
    ['player42 wants a rematch.', 'player# wants a rematch.'],
  ])('detailKey(%j) is %j', (detail, key) => {
    expect(detailKey(detail)).toBe(key);
  });

  it('keeps what the announcer compares', () => {
    const v = view(oToMoveAway(), 'alice');
    expect(announced(v)).toEqual({
      moves: 1,
      statusText: "bob's turn",
      detail: 'bob has left. You can claim victory in # s.',
      names: ['alice', 'bob'],
      owners: [],
    });
  });
});

function oToMoveAway(): GameState {
  return game({ moves: [4], awaySince: { X: null, O: NOW - 10_000 }, turnStartedAt: NOW - 20_000 });
}

describe('announcement', () => {
  const heard = (state: GameState, viewer: Viewer, now = NOW) => announced(view(state, viewer, now));

  it.each([
    ['the opponent moved',
      game({ moves: [4] }), game({ moves: [4, 5] }), 'alice', 'O played row 2, column 3. Your turn.'],
    ['I moved',
      game({ moves: [4] }), game({ moves: [4, 5] }), 'bob', "O played row 2, column 3. alice's turn."],
    ['a spectator watches a move',
      game({ moves: [4] }), game({ moves: [4, 5] }), 'carol', 'O played row 2, column 3. alice (X) to move.'],
    ['the computer answered at once',
      vsComputer('easy', []), vsComputer('easy', [0, 4]), 'alice', 'X played row 1, column 1. O played row 2, column 2. Your turn.'],
    ['the winning move',
      game({ moves: X_WINS_BY_LINE.slice(0, 6) }), finished(X_WINS_BY_LINE, 'x_won', 'line'), 'bob', 'X played row 2, column 1. You lost.'],
    ['the winning move, to a spectator',
      game({ moves: X_WINS_BY_LINE.slice(0, 6) }), finished(X_WINS_BY_LINE, 'x_won', 'line'), 'visitor', 'X played row 2, column 1. alice (X) won.'],
    ['the last move of a draw',
      game({ moves: DRAWN.slice(0, 8) }), finished(DRAWN, 'draw', 'full'), 'alice', 'X played row 2, column 3. Draw.'],
    ['the opponent resigned',
      game({ moves: [4, 0] }), finished([4, 0], 'x_won', 'resigned'), 'alice', 'You won by resignation.'],
    ['bob joined alice\'s game',
      waiting('friend', 'X'), game({ mode: 'friend' }), 'alice', 'bob joined. Your turn.'],
    ['bob joined, to a spectator',
      waiting('friend', 'X'), game({ mode: 'friend' }), 'carol', 'bob joined. alice (X) to move.'],
    ['alice joined bob\'s open game, to bob',
      waiting('open', 'O'), game({ createdBy: BOB.id }), 'bob', "alice joined. alice's turn."],
    ['the opponent offered a rematch',
      finished([4, 0], 'x_won', 'resigned'), finished([4, 0], 'x_won', 'resigned', { rematch: { offeredBy: BOB.id, nextId: null } }), 'alice', 'bob wants a rematch.'],
    ['the opponent left',
      game({ moves: [4] }), oToMoveAway(), 'alice', 'bob has left. You can claim victory in 50 s.'],
  ] as const)('%s', (_label, before, after, viewer, sentence) => {
    expect(announcement(heard(before, viewer), view(after, viewer))).toBe(sentence);
  });

  // BUG: when a waiting game ends without a second player, the empty seat's name changes from
  // WAITING_NAME to '—', and announcement() takes that for someone joining: "— joined. …".
  it.each([
    ['alice', waiting('friend', 'X'), waiting('friend', 'X', { status: 'aborted', reason: 'expired' }), 'Nobody joined in time.'],
    ['carol', waiting('friend', 'X'), waiting('friend', 'X', { status: 'aborted', reason: 'expired' }), 'Nobody joined in time.'],
    ['carol', waiting('open', 'O'), waiting('open', 'O', { status: 'aborted', reason: 'cancelled' }), 'Game cancelled.'],
  ] as const)('does not say someone joined a game that ended unjoined (%s)', (viewer, before, after, sentence) => {
    expect(announcement(heard(before, viewer), view(after, viewer))).toBe(sentence);
  });

  it('does not tell the joiner that they joined', () => {
    // bob looks at alice's waiting game, then joins it.
    expect(announcement(heard(waiting('friend', 'X'), 'bob'), view(game({ mode: 'friend' }), 'bob'))).toBe("alice's turn.");
  });

  it('says nothing when nothing changed', () => {
    for (const state of [game({ moves: [4] }), waiting('friend', 'X'), finished(DRAWN, 'draw', 'full'), oToMoveAway()]) {
      for (const viewer of ['alice', 'bob', 'carol', 'visitor'] as const) {
        expect(announcement(heard(state, viewer), view(state, viewer))).toBe('');
      }
    }
  });

  it('does not read out every tick of the countdown, but says when the claim is possible', () => {
    const state = oToMoveAway();
    const before = heard(state, 'alice');
    expect(announcement(before, view(state, 'alice', NOW + 1_000))).toBe('');
    expect(announcement(before, view(state, 'alice', NOW + 49_999))).toBe('');
    expect(announcement(before, view(state, 'alice', NOW + 50_000))).toBe('bob has left. You can claim victory.');
  });

  it('drops the countdown without a word when the absent player comes back and moves', () => {
    const state = oToMoveAway();
    const after = game({ moves: [4, 0], turnStartedAt: NOW });
    expect(announcement(heard(state, 'alice'), view(after, 'alice'))).toBe('O played row 1, column 1. Your turn.');
  });
});

describe('viewGame: Ultimate', () => {
  /** An Ultimate game after `moves` (cells 0..80), its board from the rules module. */
  function ultimateGame(moves: number[], overrides: Partial<GameState> = {}): GameState {
    let p = ultimate.start();
    for (const cell of moves) p = ultimate.play(p, cell, ultimate.turn(p));
    return game({ variant: 'ultimate', moves, board: ultimate.serialize(p), ...overrides });
  }

  it('shows 81 named squares, lights the small board to play in, and says where to play', () => {
    const v = view(ultimateGame([40]), 'bob'); // X took the centre of board 5: O plays in board 5
    expect(v.size).toBe(9);
    expect(v.cells).toHaveLength(81);
    expect(v.cells[40]!.label).toBe('Board 5, row 2, column 2, X');
    expect(v.cells[0]!.label).toBe('Board 1, row 1, column 1, empty');
    const lit = v.cells.flatMap((c, i) => (c.active ? [i] : []));
    expect(lit).toEqual([30, 31, 32, 39, 40, 41, 48, 49, 50]);
    expect(v.cells.flatMap((c, i) => (c.playable ? [i] : []))).toEqual([30, 31, 32, 39, 41, 48, 49, 50]);
    expect(v.where).toBe('You play in board 5, centre.');
    expect(view(ultimateGame([40]), 'alice').where).toBe('O plays in board 5, centre.');
    expect(view(ultimateGame([40]), 'alice').cells.some((c) => c.playable)).toBe(false);
  });

  it('lights, at each step of a replay, the small board the next move had to go to', () => {
    const over = { status: 'finished' as const, result: 'x_won' as const, reason: 'resigned' as const, turnStartedAt: null };
    const replayed = view(ultimateGame([40, 30, 0], over), 'carol', NOW, { replayPly: 1 });
    expect(replayed.cells.flatMap((c, i) => (c.active ? [i] : []))).toEqual([30, 31, 32, 39, 40, 41, 48, 49, 50]);
    expect(replayed.where).toBe('O plays in board 5, centre.');
    expect(replayed.cells.some((c) => c.playable)).toBe(false);
    const end = view(ultimateGame([40, 30, 0], over), 'carol');
    expect(end.cells.some((c) => c.active)).toBe(false);
    expect(end.where).toBe('');
  });

  it('says when a small board is won, and names its squares as won', () => {
    // X takes board 1's middle column with the moves of the site fixture; the last one wins board 1.
    const moves = [58, 12, 27, 9, 29, 6, 1, 3, 19, 57, 10];
    const before = announced(view(ultimateGame(moves.slice(0, -1)), 'bob'));
    const after = view(ultimateGame(moves), 'bob');
    expect(announcement(before, after)).toMatch(/^X played board 1, row 2, column 2\. X won board 1\. Your turn\./);
    expect(after.cells[0]!.label).toBe('Board 1, row 1, column 1, empty, won by X');
    expect(after.areas[0]).toEqual({ name: 'board 1', owner: 'X' });
  });

  it('announces where to play after the move', () => {
    const before = announced(view(ultimateGame([]), 'bob'));
    expect(announcement(before, view(ultimateGame([40]), 'bob'))).toBe('X played board 5, row 2, column 2. Your turn. You play in board 5, centre.');
  });

  it("marks each move with the engine's chances once analysed, and the first blunder", () => {
    const moves = [40, 30, 0];
    const over = { status: 'finished' as const, result: 'x_won' as const, reason: 'resigned' as const, turnStartedAt: null };
    expect(view(ultimateGame(moves, over), 'alice').moves.map((m) => m.verdict)).toEqual([null, null, null]);
    // Each mover's chances with the engine's best move and with theirs: O's move lost 25 points.
    const analysis = { best: [0.55, 0.45, 0.8], played: [0.55, 0.2, 0.78] };
    const analysed = view(ultimateGame(moves, { ...over, analysis }), 'alice');
    expect(analysed.moves.map((m) => m.verdict)).toEqual(['chances 55% → 55%', 'chances 45% → 20%, a blunder', 'chances 80% → 78%']);
    expect(analysed.moves.map((m) => m.firstMistake)).toEqual([false, true, false]);
  });
});

describe('viewGame: misère', () => {
  it('says who completed the line that lost the game', () => {
    const lost = game({ variant: 'misere', status: 'finished', result: 'o_won', reason: 'line', moves: [0, 3, 1, 4, 2], turnStartedAt: null });
    expect(view(lost, 'alice')).toMatchObject({ status: 'lost', statusText: 'You lost', detail: 'You completed three in a row, which loses in misère.' });
    expect(view(lost, 'bob')).toMatchObject({ status: 'won', detail: 'alice (X) completed three in a row, which loses in misère.' });
    expect(view(lost, 'alice').cells.filter((c) => c.win)).toHaveLength(3);
  });
});

describe('a square that cannot be played, in words', () => {
  it('names the board to play in when the square is in another one', () => {
    expect(refusal('your-turn', 'X', false, 'You play in board 3, top right.')).toBe('Not that board: you play in board 3, top right.');
    expect(refusal('your-turn', 'X', false)).toBe('');
    expect(refusal('your-turn', 'X', true, 'You play in board 3, top right.')).toBe('That square is taken. Choose an empty one.');
  });
});
