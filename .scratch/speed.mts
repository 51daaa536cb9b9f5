import { Board, toCell, fromCell } from '../src/game/engines/ultimate/board.js';
import { SearchTree } from '../src/game/engines/ultimate/mcts.js';
import { ultimate } from '../src/game/variants/ultimate.js';
import { mulberry32 } from '../src/game/random.js';
const r = mulberry32(1);
// consistency
for (let g = 0; g < 2000; g++) {
  let p = ultimate.start(); const b = new Board(); const out = new Uint8Array(81);
  while (true) {
    const legal = ultimate.legalMoves(p); const n = b.legalMoves(out);
    const mine = [...out.slice(0, n)].map(toCell).sort((a, c) => a - c);
    if (JSON.stringify(mine) !== JSON.stringify(legal)) throw new Error('legal mismatch ' + g);
    if (legal.length === 0) break;
    const cell = legal[Math.floor(r() * legal.length)]!;
    p = ultimate.play(p, cell, ultimate.turn(p)); b.play(fromCell(cell));
    const res = ultimate.result(p); const st = ['in_progress','x_won','o_won','draw'][b.state];
    if (res !== st) throw new Error(`state mismatch ${res} ${st}`);
    const round = ultimate.parse(ultimate.serialize(p));
    if (ultimate.serialize(round) !== ultimate.serialize(p)) throw new Error('serialize');
  }
}
console.log('consistent');
for (const solver of [false, true]) {
  const t = new SearchTree(); t.reset(new Board());
  const t0 = performance.now();
  const res = t.search({ timeMs: 1000, solver, decisive: solver, exploration: 0.6, random: r });
  console.log(solver, res.iterations, 'it/s', (performance.now() - t0).toFixed(0), res);
}
