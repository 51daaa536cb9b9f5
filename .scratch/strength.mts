import { Board } from '../src/game/engines/ultimate/board.js';
import { SearchTree } from '../src/game/engines/ultimate/mcts.js';
import { hardOptions, plainUctOptions, mediumMove, EXPLORATION } from '../src/game/engines/ultimate/players.js';
import { mulberry32 } from '../src/game/random.js';
const N = Number(process.argv[2] ?? 1000), GAMES = Number(process.argv[3] ?? 40), C = Number(process.argv[4] ?? EXPLORATION);
const opp = process.argv[5] ?? 'uct';
let score = 0;
for (let g = 0; g < GAMES; g++) {
  const r = mulberry32(g + 1);
  const b = new Board();
  const hardIsX = g % 2 === 0;
  const tHard = new SearchTree(), tUct = new SearchTree(1_500_000);
  while (b.state === 0) {
    const hardToMove = (b.mover === 0) === hardIsX;
    let move;
    if (hardToMove) { tHard.reset(b); move = tHard.search({ ...hardOptions(r, { iterations: N }), exploration: C }).move; }
    else if (opp === 'medium') { const t = mediumMove(b, r); const { fromCell } = await import('../src/game/engines/ultimate/board.js'); move = fromCell(t.cell); }
    else { tUct.reset(b); move = tUct.search(plainUctOptions(r, { iterations: N * 10 })).move; }
    b.play(move);
  }
  const hardWon = (b.state === 1) === hardIsX;
  score += b.state === 3 ? 0.5 : hardWon ? 1 : 0;
}
console.log(`N=${N} C=${C} vs ${opp}: Hard scored ${score}/${GAMES} = ${(100 * score / GAMES).toFixed(1)}%`);
