import { ultimate, cellOf, smallBoardOwners } from '../src/game/variants/ultimate.js';
// find a short legal sequence where X wins board 1 (index 0) and it's X's turn at the end? search BFS-ish random
import { mulberry32 } from '../src/game/random.js';
for (let seed = 0; seed < 200000; seed++) {
  const r = mulberry32(seed); let p = ultimate.start(); const moves: number[] = [];
  for (let i = 0; i < 12 && ultimate.result(p) === 'in_progress'; i++) {
    const legal = ultimate.legalMoves(p); const c = legal[Math.floor(r() * legal.length)]!; p = ultimate.play(p, c, ultimate.turn(p)); moves.push(c);
    const o = smallBoardOwners(p);
    if (o[0] === 'X' && o.filter(Boolean).length === 1 && ultimate.turn(p) === 'X' && moves.length <= 12) { console.log(JSON.stringify(moves), ultimate.serialize(p)); process.exit(0); }
  }
}
