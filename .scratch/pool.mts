import { createEnginePool } from '../src/game/engines/pool.js';
import { ultimate } from '../src/game/variants/ultimate.js';
const pool = createEnginePool({ budgetMs: 200 });
const t0 = performance.now();
const res = await Promise.all([1,2,3].map((i) => pool.think({ position: ultimate.serialize(ultimate.start()), level: 'hard', seed: i, game: 'g' + i })));
console.log(res, performance.now() - t0);
await pool.close();
