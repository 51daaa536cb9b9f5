// boardgame.io's own Client over its SocketIO transport, in Node: creates matches through the
// Lobby API, seats two clients in each, and plays. Two modes, one JSON result line:
//   node client.cjs <url> throughput <matches> <seconds>   moves as fast as each match allows
//   node client.cjs <url> paced <matches> <seconds> <intervalMs>   one move per interval per match
// A move's latency runs from clickCell() to the opponent's client showing it.
const { Client, LobbyClient } = require('boardgame.io/client');
const { SocketIO } = require('boardgame.io/multiplayer');
const { performance } = require('node:perf_hooks');
const { TicTacToe } = require('./game.cjs');

const [server, mode, matchCount, seconds, intervalMs] = [process.argv[2], process.argv[3], Number(process.argv[4]), Number(process.argv[5]), Number(process.argv[6] ?? 0)];
// A cell order that never makes a line: every game is nine moves, a draw.
const CELLS = [0, 1, 2, 4, 3, 5, 7, 6, 8];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Generous: 200 matches joining at once through bgio-postgres take a while; a timeout is counted.
function waitFor(client, predicate, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    let unsubscribe = () => {};
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no state within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const check = (state) => {
      if (!state || !predicate(state)) return;
      clearTimeout(timer);
      queueMicrotask(() => unsubscribe());
      resolve(state);
    };
    unsubscribe = client.subscribe(check);
  });
}

async function newMatch(lobby, i) {
  const { matchID } = await lobby.createMatch(TicTacToe.name, { numPlayers: 2 });
  const clients = [];
  for (const playerID of ['0', '1']) {
    const { playerCredentials } = await lobby.joinMatch(TicTacToe.name, matchID, { playerID, playerName: `m${i}p${playerID}` });
    const client = Client({ game: TicTacToe, matchID, playerID, credentials: playerCredentials, multiplayer: SocketIO({ server }), debug: false });
    client.start();
    clients.push(client);
  }
  await Promise.all(clients.map((c) => waitFor(c, (s) => s.isConnected && s._stateID === 0)));
  return clients;
}

let failures = 0;

/** Plays games in one seat pair until `until`; returns each move's latency. A failure ends the pair. */
async function play(lobby, i, until) {
  const latencies = [];
  try {
    await playGames(lobby, i, until, latencies);
  } catch (err) {
    failures++;
    console.error(`match ${i}: ${err.message}`);
  }
  return latencies;
}

async function playGames(lobby, i, until, latencies) {
  while (performance.now() < until) {
    const clients = await newMatch(lobby, i);
    for (let k = 0; k < CELLS.length && performance.now() < until; k++) {
      const mover = clients[k % 2];
      const opponent = clients[1 - (k % 2)];
      const cell = CELLS[k];
      const next = opponent.getState()._stateID + 1;
      const seen = waitFor(opponent, (s) => s._stateID >= next && s.G.cells[cell] === String(k % 2));
      const started = performance.now();
      mover.moves.clickCell(cell);
      await seen;
      latencies.push(performance.now() - started);
      await waitFor(mover, (s) => s._stateID >= next);
      if (mode === 'paced') await sleep(Math.max(0, intervalMs - (performance.now() - started)));
    }
    for (const client of clients) client.stop();
  }
}

(async () => {
  const lobby = new LobbyClient({ server });
  const started = performance.now();
  const until = started + seconds * 1000;
  // Matches start one after another over a second (or the pacing interval), not all at once.
  const spread = mode === 'paced' ? intervalMs : 1000;
  const all = (await Promise.all(Array.from({ length: matchCount }, (_, i) => sleep((i * spread) / matchCount).then(() => play(lobby, i, until))))).flat();
  const elapsed = (performance.now() - started) / 1000;
  const sorted = all.sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  process.stdout.write(`${JSON.stringify({ bench: { mode, matches: matchCount, moves: all.length, movesPerS: all.length / elapsed, p50: at(0.5), p99: at(0.99), max: at(1), failures } })}\n`);
  setTimeout(() => process.exit(0), 100);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
