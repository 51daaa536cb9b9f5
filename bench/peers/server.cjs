// boardgame.io's own Server with the tutorial TicTacToe, for the side-by-side bench (run.ts).
// Usage: node server.cjs <port> memory|postgres   (postgres: PG_URL names the database)
const { Server, Origins } = require('boardgame.io/server');
const { TicTacToe } = require('./game.cjs');

const port = Number(process.argv[2]);
const storage = process.argv[3] ?? 'memory';

let db; // undefined: boardgame.io's default in-memory storage
if (storage === 'postgres') {
  const { PostgresStore } = require('bgio-postgres');
  db = new PostgresStore(process.env.PG_URL, { logging: false });
} else if (storage !== 'memory') {
  throw new Error(`unknown storage ${storage}`);
}

const server = Server({ games: [TicTacToe], db, origins: [Origins.LOCALHOST] });
let running;
server.run(port).then((r) => {
  running = r;
  process.stdout.write(`${JSON.stringify({ bench: { listening: port, storage } })}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    if (running) server.kill(running);
    if (db?.sequelize) await db.sequelize.close();
    process.exit(0);
  });
}
