/**
 * Monte Carlo tree search for Ultimate tic-tac-toe: UCT (Kocsis & Szepesvári 2006) with, when
 * `solver` is on, MCTS-Solver (Winands, Björnsson & Saito 2008): positions proven won, lost or
 * drawn are marked and propagated, a proven win is played at once and proven losses are never
 * chosen while anything else remains. With `decisive` playouts, a playout takes a move that wins
 * the game outright when there is one (Teytaud & Teytaud 2010, "decisive moves"); `greed` and
 * `care` make playouts take small boards and avoid handing them over; `bias` (progressive bias)
 * and `minimax` (implicit minimax backups) bring a little knowledge into the tree. With all of
 * them off this is the plain UCT with random playouts the benchmark plays against.
 *
 * The tree lives in typed arrays (struct of arrays, no object per node), children of a node
 * contiguous, so a search allocates nothing per iteration. `advance` keeps the subtree of the
 * moves played since the last search (tree reuse between moves).
 */
import { Board, DRAW, hasLine, heuristic, ONGOING, O_WON, X, X_WON } from './board.js';
import type { Random } from '../../random.js';

/** Proof states, from the point of view of the player who moved into the node. */
const UNKNOWN = 0;
const WON = 1;
const LOST = -1;
const DRAWN = 2;

export interface SearchOptions {
  /** Stop after this many iterations… */
  iterations?: number;
  /** …or once this many milliseconds have passed (whichever comes first). */
  timeMs?: number;
  /** MCTS-Solver: prove wins, losses and draws and play by them. */
  solver: boolean;
  /** Playouts take an immediately winning move when there is one. */
  decisive: boolean;
  /** Playouts take a move that wins a small board with this probability, when there is one (0: never). */
  greed?: number;
  /** Playouts redraw a random move this many times while it sends the opponent somewhere dangerous. */
  care?: number;
  /**
   * Progressive bias (Chaslot et al. 2008): a child's UCT value gets bias · prior / (n + 1), its
   * prior +1 for winning a small board and −1 for sending the opponent somewhere dangerous; and
   * unvisited children are tried best prior first. 0: none.
   */
  bias?: number;
  /**
   * Implicit minimax backups (Lanctot, Winands, Pepels & Sturtevant 2014): each node also keeps a
   * heuristic value (see heuristic in board.ts) backed up by minimax, mixed into the UCT value
   * with this weight α. 0: none.
   */
  minimax?: number;
  /** UCT exploration constant C in mean + C·√(ln N / n); √2 in theory, lower is usual here. */
  exploration: number;
  random: Random;
}

export interface SearchResult {
  /** The chosen move, `board * 9 + inner` (see board.ts). */
  move: number;
  iterations: number;
  /** The mover's expected score (win 1, draw ½) after the chosen move, from the search. */
  value: number;
  /** 'win', 'loss' or 'draw' when the search proved the chosen move's outcome for the mover. */
  proven: 'win' | 'loss' | 'draw' | null;
  /** Nodes in the tree, reused ones included. */
  nodes: number;
}

/** Nodes a tree holds at most (about 20 bytes each); past that, iterations stop growing it. */
export const DEFAULT_CAPACITY = 500_000;

export class SearchTree {
  private readonly move: Uint8Array;
  private readonly parent: Int32Array;
  private readonly first: Int32Array;
  private readonly count: Uint8Array;
  private readonly visits: Int32Array;
  private readonly score: Float64Array;
  private readonly proof: Int8Array;
  private readonly prior: Int8Array;
  /** Heuristic value for the player who moved into the node, backed up by minimax. */
  private readonly heur: Float32Array;
  private readonly scratchBoard = new Board();
  private size = 0;
  private root = 0;
  private readonly rootBoard = new Board();
  private readonly board = new Board();
  private readonly moves = new Uint8Array(81);

  constructor(readonly capacity = DEFAULT_CAPACITY) {
    this.move = new Uint8Array(capacity);
    this.parent = new Int32Array(capacity);
    this.first = new Int32Array(capacity);
    this.count = new Uint8Array(capacity);
    this.visits = new Int32Array(capacity);
    this.score = new Float64Array(capacity);
    this.proof = new Int8Array(capacity);
    this.prior = new Int8Array(capacity);
    this.heur = new Float32Array(capacity);
  }

  /** Starts a fresh tree at `position`. */
  reset(position: Board): void {
    this.rootBoard.copyFrom(position);
    this.size = 0;
    this.root = this.newNode(-1, 0);
  }

  /** The position at the root. */
  get position(): Board {
    return this.rootBoard;
  }

  /**
   * Moves the root down along `moves` (played since the root), keeping that subtree. Returns false
   * (and leaves the tree as it was) when a move is not in the tree.
   */
  advance(moves: readonly number[]): boolean {
    let node = this.root;
    for (const move of moves) {
      const child = this.childWith(node, move);
      if (child < 0) return false;
      node = child;
    }
    for (const move of moves) this.rootBoard.play(move);
    this.root = node;
    this.parent[node] = -1;
    return true;
  }

  /**
   * The root's child for `move` after a search: its visits and its value for the player to move
   * at the root (proven values exact), or null if the search never expanded it.
   */
  rootChild(move: number): { visits: number; value: number; proven: boolean } | null {
    const child = this.childWith(this.root, move);
    if (child < 0) return null;
    const proof = this.proof[child];
    const visits = this.visits[child]!;
    if (proof !== UNKNOWN) return { visits, value: proof === WON ? 1 : proof === LOST ? 0 : 0.5, proven: true };
    return visits > 0 ? { visits, value: this.score[child]! / visits, proven: false } : null;
  }

  /** Nodes in use; the tree is full at `capacity`. */
  get nodes(): number {
    return this.size;
  }

  search(options: SearchOptions): SearchResult {
    const limit = options.iterations ?? Infinity;
    const deadline = options.timeMs === undefined ? Infinity : performance.now() + options.timeMs;
    let iterations = 0;
    while (iterations < limit && this.proof[this.root] === UNKNOWN) {
      this.iterate(options);
      iterations++;
      if ((iterations & 63) === 0 && performance.now() >= deadline) break;
    }
    return this.best(iterations);
  }

  private newNode(parent: number, move: number): number {
    const node = this.size++;
    this.parent[node] = parent;
    this.move[node] = move;
    this.first[node] = -1;
    this.count[node] = 0;
    this.visits[node] = 0;
    this.score[node] = 0;
    this.proof[node] = UNKNOWN;
    this.prior[node] = 0;
    this.heur[node] = 0.5;
    return node;
  }

  private childWith(node: number, move: number): number {
    const first = this.first[node]!;
    for (let c = first; first >= 0 && c < first + this.count[node]!; c++) if (this.move[c] === move) return c;
    return -1;
  }

  private iterate(options: SearchOptions): void {
    const board = this.board;
    board.copyFrom(this.rootBoard);
    let node = this.root;
    while (this.first[node]! >= 0 && this.proof[node] === UNKNOWN) {
      node = this.select(node, options);
      board.play(this.move[node]!);
    }
    // A leaf is expanded on its second visit (the root at once), which keeps the tree to the part
    // of the game the search returns to.
    const expandable = this.visits[node]! > 0 || node === this.root;
    if (expandable && this.proof[node] === UNKNOWN && board.state === ONGOING && this.expand(node, board, options)) {
      node = this.first[node]! + Math.floor(options.random() * this.count[node]!);
      board.play(this.move[node]!);
    }
    if (board.state !== ONGOING && this.proof[node] === UNKNOWN) {
      // The player who moved into a finished position won it or drew it; they cannot have lost.
      this.proof[node] = board.state === DRAW ? DRAWN : WON;
    }
    const known = this.proof[node]!;
    const mover = board.mover;
    // A proven node's value is known; otherwise a playout estimates it. Both as X's score.
    const xScore = known !== UNKNOWN ? xScoreOfProof(known, mover) : playout(board, options);
    this.backpropagate(node, mover, xScore, options);
  }

  private expand(node: number, board: Board, options: SearchOptions): boolean {
    const n = board.legalMoves(this.moves);
    if (this.size + n > this.capacity) return false;
    // Children in random order, so that ties and unvisited children are not taken in move order.
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(options.random() * (i + 1));
      const t = this.moves[i]!;
      this.moves[i] = this.moves[j]!;
      this.moves[j] = t;
    }
    this.first[node] = this.size;
    this.count[node] = n;
    if (!options.bias) {
      for (let i = 0; i < n; i++) this.newNode(node, this.moves[i]!);
      if (options.minimax) this.evaluateChildren(node, board);
      return true;
    }
    // Best prior first: the order unvisited children are tried in.
    for (const wanted of [1, 0, -1]) {
      for (let i = 0; i < n; i++) {
        const move = this.moves[i]!;
        const prior = (board.winsSmallBoard(move) ? 1 : 0) - (board.sendsToDanger(move % 9) ? 1 : 0);
        if (prior === wanted) this.prior[this.newNode(node, move)] = prior;
      }
    }
    if (options.minimax) this.evaluateChildren(node, board);
    return true;
  }

  /** Each new child's heuristic value, for the player moving at `node`; then `node`'s by minimax. */
  private evaluateChildren(node: number, board: Board): void {
    const first = this.first[node]!;
    const mover = board.mover;
    for (let c = first; c < first + this.count[node]!; c++) {
      this.scratchBoard.copyFrom(board);
      this.scratchBoard.play(this.move[c]!);
      this.heur[c] = heuristic(this.scratchBoard, mover);
    }
    this.backupHeuristic(node);
  }

  /** A node's value for whoever moved into it is one minus its mover's best child. */
  private backupHeuristic(node: number): void {
    const first = this.first[node]!;
    if (first < 0) return;
    let best = 0;
    for (let c = first; c < first + this.count[node]!; c++) {
      const value = this.proof[c] === WON ? 1 : this.proof[c] === LOST ? 0 : this.proof[c] === DRAWN ? 0.5 : this.heur[c]!;
      if (value > best) best = value;
    }
    this.heur[node] = 1 - best;
  }

  /** UCT among the children not proven lost; an unvisited child first, a proven win at once. */
  private select(node: number, options: SearchOptions): number {
    const first = this.first[node]!;
    const end = first + this.count[node]!;
    const logN = Math.log(this.visits[node]! + 1);
    const bias = options.bias ?? 0;
    const alpha = options.minimax ?? 0;
    let best = -1;
    let bestValue = -Infinity;
    for (let c = first; c < end; c++) {
      const proof = this.proof[c];
      if (options.solver && proof === WON) return c;
      if (options.solver && proof === LOST) continue;
      const n = this.visits[c]!;
      if (n === 0) return c;
      const mean = alpha ? (1 - alpha) * (this.score[c]! / n) + alpha * this.heur[c]! : this.score[c]! / n;
      const value = mean + options.exploration * Math.sqrt(logN / n) + (bias * this.prior[c]!) / (n + 1);
      if (value > bestValue) {
        bestValue = value;
        best = c;
      }
    }
    return best >= 0 ? best : first; // every child proven lost: any will do
  }

  /** Adds the playout's result from `leaf` (where `leafMover` is to move) up to the root. */
  private backpropagate(leaf: number, leafMover: number, xScore: number, options: SearchOptions): void {
    let proving = options.solver;
    let mover = leafMover;
    for (let node = leaf; node >= 0; node = node === this.root ? -1 : this.parent[node]!) {
      this.visits[node]!++;
      // score is kept for the player who moved into the node: X when O is to move there.
      this.score[node]! += mover === X ? 1 - xScore : xScore;
      if (proving && node !== leaf) proving = this.prove(node);
      if (options.minimax) this.backupHeuristic(node);
      mover ^= 1;
    }
  }

  /** Tries to prove `node` from its children's proofs; false when it stays unknown. */
  private prove(node: number): boolean {
    if (this.proof[node] !== UNKNOWN) return true;
    const first = this.first[node]!;
    let allProven = true;
    let anyDraw = false;
    for (let c = first; c < first + this.count[node]!; c++) {
      const proof = this.proof[c];
      if (proof === WON) {
        this.proof[node] = LOST; // the mover here has a winning move: whoever moved in lost
        return true;
      }
      if (proof === UNKNOWN) allProven = false;
      else if (proof === DRAWN) anyDraw = true;
    }
    if (!allProven) return false;
    this.proof[node] = anyDraw ? DRAWN : WON;
    return true;
  }

  private best(iterations: number): SearchResult {
    const first = this.first[this.root]!;
    let best = -1;
    for (let c = first; c >= 0 && c < first + this.count[this.root]!; c++) {
      if (best < 0 || this.rank(c) > this.rank(best)) best = c;
    }
    if (best < 0) throw new Error('search() needs a position with legal moves');
    const proof = this.proof[best];
    const visits = this.visits[best]!;
    return {
      move: this.move[best]!,
      iterations,
      value: proof === WON ? 1 : proof === LOST ? 0 : proof === DRAWN ? 0.5 : visits ? this.score[best]! / visits : 0.5,
      proven: proof === WON ? 'win' : proof === LOST ? 'loss' : proof === DRAWN ? 'draw' : null,
      nodes: this.size,
    };
  }

  /** A proven win first, a proven loss last, otherwise the most visited (the robust child). */
  private rank(c: number): number {
    const proof = this.proof[c];
    if (proof === WON) return Infinity;
    if (proof === LOST) return -1 + this.visits[c]! / 1e9;
    return this.visits[c]! + (proof === DRAWN ? 0 : this.score[c]! / (this.visits[c]! + 1));
  }
}

/** X's score (1, ½, 0) at a node with proof `known`, entered by the player before `mover`. */
function xScoreOfProof(known: number, mover: number): number {
  if (known === DRAWN) return 0.5;
  const enteredByX = mover !== X;
  return (known === WON) === enteredByX ? 1 : 0;
}

const playoutMoves = new Uint8Array(81);

/** Plays random moves to the end; X's score: 1 won, ½ drawn, 0 lost. */
export function playout(board: Board, options: Pick<SearchOptions, 'decisive' | 'random' | 'greed' | 'care'>): number {
  const greed = options.greed ?? 0;
  const care = options.care ?? 0;
  while (board.state === ONGOING) {
    const n = board.legalMoves(playoutMoves);
    let chosen = -1;
    if (options.decisive) chosen = decisiveMove(board, n);
    if (chosen < 0 && greed > 0 && options.random() < greed) chosen = boardWinningMove(board, n, options.random);
    if (chosen < 0) {
      chosen = playoutMoves[Math.floor(options.random() * n)]!;
      for (let tries = 0; tries < care && board.sendsToDanger(chosen % 9); tries++) chosen = playoutMoves[Math.floor(options.random() * n)]!;
    }
    board.play(chosen);
  }
  return board.state === X_WON ? 1 : board.state === O_WON ? 0 : 0.5;
}

/** A random move among the first `n` of playoutMoves that wins a small board, or -1. */
function boardWinningMove(board: Board, n: number, random: Random): number {
  let found = 0;
  let chosen = -1;
  for (let i = 0; i < n; i++) {
    const move = playoutMoves[i]!;
    // Reservoir sampling: each winning move is kept with equal chance, without a list.
    if (board.winsSmallBoard(move) && random() * ++found < 1) chosen = move;
  }
  return chosen;
}

/** A move among the first `n` of playoutMoves that wins the game at once, or -1. */
function decisiveMove(board: Board, n: number): number {
  const won = board.mover === X ? board.wonX : board.wonO;
  for (let i = 0; i < n; i++) {
    const move = playoutMoves[i]!;
    if (board.winsSmallBoard(move) && hasLine(won | (1 << ((move / 9) | 0)))) return move;
  }
  return -1;
}
