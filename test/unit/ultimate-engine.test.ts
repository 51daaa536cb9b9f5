/**
 * Ultimate's computer: the bitboard agrees with the rules module, the search takes wins and
 * avoids losses it can prove, keeps its tree between moves, Hard beats Medium, and the worker
 * pool answers with legal moves and shrinks its budget when moves queue.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Board, fromCell, toCell } from '../../src/game/engines/ultimate/board.js';
import { SearchTree } from '../../src/game/engines/ultimate/mcts.js';
import { easyMove, hardOptions, mediumMove, type Thought } from '../../src/game/engines/ultimate/players.js';
import run, { movesBetween, type Evaluation } from '../../src/game/engines/ultimate/worker.js';
import { createEnginePool, MIN_BUDGET_MS, QUEUE_PER_THREAD } from '../../src/game/engines/pool.js';
import { createComputer } from '../../src/game/engines/index.js';
import { cellOf, ultimate, type UltimatePosition } from '../../src/game/variants/ultimate.js';
import { mulberry32 } from '../../src/game/random.js';

const STATES = ['in_progress', 'x_won', 'o_won', 'draw'];
const at = (board: number, inner: number) => cellOf(board - 1, inner - 1);

function stored(boards: Record<number, string>, forced: string): string {
  const cells = new Array<string>(81).fill('.');
  for (const [board, marks] of Object.entries(boards)) [...marks].forEach((mark, inner) => (cells[cellOf(Number(board) - 1, inner)] = mark));
  return cells.join('') + forced;
}

describe('the bitboard', () => {
  it('agrees with the rules module move by move over random games', () => {
    const random = mulberry32(7);
    const scratch = new Uint8Array(81);
    for (let game = 0; game < 300; game++) {
      let p: UltimatePosition = ultimate.start();
      const board = new Board();
      for (;;) {
        const legal = ultimate.legalMoves(p);
        const n = board.legalMoves(scratch);
        expect([...scratch.subarray(0, n)].map(toCell).sort((a, b) => a - b)).toEqual(legal);
        expect(STATES[board.state]).toBe(ultimate.result(p));
        if (legal.length === 0) break;
        const cell = legal[Math.floor(random() * legal.length)]!;
        p = ultimate.play(p, cell, ultimate.turn(p));
        board.play(fromCell(cell));
        expect(Board.from(p).cells).toEqual(board.cells);
      }
    }
  });
});

describe('the search', () => {
  // X has boards 1 and 5 and is sent to board 9, where it has two in a row: 9/9 wins the game.
  const WIN_IN_ONE = stored({ 1: 'XXXOO....', 5: 'XXXOO....', 9: 'XX..O....', 2: 'O.O......', 3: '.O.......' }, '8');

  it('plays a move that wins the game at once, and says it is proven', () => {
    const tree = new SearchTree(50_000);
    tree.reset(Board.from(ultimate.parse(WIN_IN_ONE)));
    const result = tree.search(hardOptions(mulberry32(1), { iterations: 2_000 }));
    expect(toCell(result.move)).toBe(at(9, 3));
    expect(result.proven).toBe('win');
    expect(result.iterations).toBeLessThan(2_000); // stopped once the root was proven
  });

  it('does not give the opponent a game-winning board when it can help it', () => {
    // O to move in board 4. X has boards 1 and 5 and two in a row on board 9. O's move to cell 9
    // of board 4 sends X to board 9, where X wins the game; cell 5 sends X to board 5, which is
    // closed, so X may play anywhere and wins the same way. The other cells are safe.
    const p = ultimate.parse(stored({ 1: 'XXXOO....', 5: 'XXXOO....', 9: 'XX..O....', 2: 'O.O......', 4: 'X........', 3: '.O.......' }, '3'));
    expect(ultimate.turn(p)).toBe('O');
    for (let seed = 1; seed <= 5; seed++) {
      const tree = new SearchTree(100_000);
      tree.reset(Board.from(p));
      const move = toCell(tree.search(hardOptions(mulberry32(seed), { iterations: 3_000 })).move);
      expect([at(4, 5), at(4, 9)]).not.toContain(move);
    }
  });

  it('keeps the subtree of the moves played since its last search', () => {
    const tree = new SearchTree();
    const start = ultimate.start();
    tree.reset(Board.from(start));
    const first = tree.search(hardOptions(mulberry32(3), { iterations: 3_000 }));
    const mine = toCell(first.move);
    const afterMine = ultimate.play(start, mine, 'X');
    const reply = ultimate.legalMoves(afterMine)[0]!;
    const next = Board.from(ultimate.play(afterMine, reply, 'O'));
    const moves = movesBetween(tree.position, next);
    expect(moves?.map(toCell)).toEqual([mine, reply]);
    const before = tree.nodes;
    expect(tree.advance(moves!)).toBe(true);
    expect(tree.position.cells).toEqual(next.cells);
    expect(tree.position.forced).toBe(next.forced);
    expect(tree.nodes).toBe(before); // nothing thrown away: searching goes on from the subtree
    expect(movesBetween(next, Board.from(start))).toBeNull();
  });
});

describe('the players', () => {
  it('Easy and Medium play legal moves', () => {
    const random = mulberry32(5);
    let p = ultimate.start();
    while (ultimate.result(p) === 'in_progress') {
      const board = Board.from(p);
      const thought = ultimate.turn(p) === 'X' ? easyMove(board, random) : mediumMove(board, random);
      expect(ultimate.legalMoves(p)).toContain(thought.cell);
      p = ultimate.play(p, thought.cell, ultimate.turn(p));
    }
  });

  it('Hard (a short search, a few games, both colours) beats Medium', () => {
    let hardScore = 0;
    const games = 4;
    for (let game = 0; game < games; game++) {
      const random = mulberry32(100 + game);
      const hardIsX = game % 2 === 0;
      const board = new Board();
      while (board.state === 0) {
        const hardToMove = (board.mover === 0) === hardIsX;
        let move: number;
        if (hardToMove) {
          const tree = new SearchTree(200_000);
          tree.reset(board);
          move = tree.search(hardOptions(random, { iterations: 4_000 })).move;
        } else {
          move = fromCell(mediumMove(board, random).cell);
        }
        board.play(move);
      }
      hardScore += board.state === 3 ? 0.5 : (board.state === 1) === hardIsX ? 1 : 0;
    }
    expect(hardScore).toBeGreaterThanOrEqual(3);
  });

  it('the worker keeps a game on the same tree between its moves', () => {
    const start = ultimate.serialize(ultimate.start());
    const first = run({ kind: 'move', position: start, level: 'hard', timeMs: 40, seed: 1, game: 'reuse' }) as Thought;
    expect(first.iterations).toBeGreaterThan(0);
    expect(ultimate.legalMoves(ultimate.start())).toContain(first.cell);
  });
});

describe('post-game analysis', () => {
  it("judges the engine's own choice as losing nothing, and a move into the opponent's win as lost", () => {
    const position = stored({ 1: 'XXXOO....', 5: 'XXXOO....', 9: 'XX..O....', 2: 'O.O......', 4: 'X........', 3: '.O.......' }, '3');
    const own = run({ kind: 'evaluate', position, played: at(4, 2), iterations: 3_000, seed: 1 }) as Evaluation;
    const same = run({ kind: 'evaluate', position, played: own.bestCell, iterations: 3_000, seed: 1 }) as Evaluation;
    expect(same.played).toBe(same.best);
    // O's move to board 4's cell 9 sends X to board 9, where X wins at once: proven lost, below
    // the best move's chances (which are slim: X has boards 1 and 5).
    const blunder = run({ kind: 'evaluate', position, played: at(4, 9), iterations: 3_000, seed: 1 }) as Evaluation;
    expect(blunder.played).toBe(0);
    expect(blunder.best).toBeGreaterThan(0);
  });
});

describe('the worker pool', () => {
  const pool = createEnginePool({ threads: 1, budgetMs: 120 });
  afterAll(() => pool.close());

  it('answers with a legal move from a worker thread, and gives each queued move less time', async () => {
    const p = ultimate.play(ultimate.start(), at(5, 5), 'X');
    const position = ultimate.serialize(p);
    expect(pool.currentBudget()).toBe(120);
    const thinking = [1, 2, 3].map((seed) => pool.think({ position, level: 'hard', seed, game: `g${seed}` }));
    // Three moves in flight on one thread: the next one would get a third of the budget.
    expect(pool.currentBudget()).toBe(Math.max(MIN_BUDGET_MS, Math.floor(120 / 4)));
    const thoughts = await Promise.all(thinking);
    for (const thought of thoughts) expect(ultimate.legalMoves(p)).toContain(thought.cell);
    expect(pool.currentBudget()).toBe(120);
  });
});

describe('the computer: limits per person and for the pool', () => {
  const pool = createEnginePool({ threads: 1, budgetMs: 60 });
  const computer = createComputer(pool, mulberry32(9));
  afterAll(() => pool.close());
  const p = ultimate.play(ultimate.start(), at(5, 5), 'X');

  it('shares one search between identical requests, and refuses a third search for the same person', async () => {
    const first = computer.move(ultimate, 'hard', p, 'O', 'g1', 7);
    const again = computer.move(ultimate, 'hard', p, 'O', 'g1', 7);
    const other = computer.move(ultimate, 'hard', p, 'O', 'g2', 7);
    await expect(computer.move(ultimate, 'hard', p, 'O', 'g3', 7)).rejects.toMatchObject({ code: 'too_many' });
    // Someone else is not held up by person 7's limit.
    const stranger = computer.move(ultimate, 'hard', p, 'O', 'g4', 8);
    const [a, b] = await Promise.all([first, again, other, stranger]);
    expect(a).toBe(b);
    // Once answered, person 7 may ask again.
    expect(ultimate.legalMoves(p)).toContain(await computer.move(ultimate, 'hard', p, 'O', 'g3', 7));
  });

  it('refuses new searches while the queue is full, rather than make everyone wait', async () => {
    const waiting = Array.from({ length: QUEUE_PER_THREAD }, (_, owner) => computer.move(ultimate, 'hard', p, 'O', `q${owner}`, 100 + owner));
    await expect(computer.move(ultimate, 'hard', p, 'O', 'late', 999)).rejects.toMatchObject({ code: 'busy' });
    await Promise.all(waiting);
    expect(ultimate.legalMoves(p)).toContain(await computer.move(ultimate, 'hard', p, 'O', 'late', 999));
  });
});
