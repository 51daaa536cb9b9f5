/**
 * Baseline for move latency: a bare `ws` relay with no database and no session. It speaks just
 * enough of the game protocol for the same client to drive it: `subscribe` joins a game's room and
 * answers with its state; `move` is acknowledged to the sender and the new state (the same shape
 * and size as the app's) is serialised once and sent to everyone in the room.
 */
import { WebSocketServer, type WebSocket } from 'ws';
import type { GameState } from '../../src/game/model.js';
import type { ClientMessage } from '../../src/game/protocol.js';
import { emit } from '../lib/common.js';

const rooms = new Map<string, Set<WebSocket>>();
const roomOf = new Map<WebSocket, string>();
const boards = new Map<string, { board: string[]; moves: number[] }>();

function stateOf(id: string): GameState {
  const b = boards.get(id) ?? { board: Array<string>(9).fill('.'), moves: [] };
  const now = Date.now();
  return {
    id,
    variant: 'classic',
    mode: 'friend',
    aiLevel: null,
    status: b.moves.length === 9 ? 'finished' : 'active',
    result: b.moves.length === 9 ? 'draw' : null,
    reason: b.moves.length === 9 ? 'full' : null,
    board: b.board.join(''),
    ply: b.moves.length,
    version: b.moves.length + 2,
    createdBy: 1,
    players: { X: { id: 1, name: 'slotx' }, O: { id: 2, name: 'sloto' } },
    moves: b.moves,
    awaySince: { X: null, O: null },
    turnStartedAt: now,
    expiresAt: null,
    rematch: { offeredBy: null, nextId: null },
    analysis: null,
  };
}

const wss = new WebSocketServer({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1', maxPayload: 4096 });
wss.on('connection', (ws) => {
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString('utf8')) as ClientMessage;
    if (message.type === 'subscribe') {
      const previous = roomOf.get(ws);
      if (previous) rooms.get(previous)?.delete(ws);
      let room = rooms.get(message.game);
      if (!room) rooms.set(message.game, (room = new Set()));
      room.add(ws);
      roomOf.set(ws, message.game);
      ws.send(JSON.stringify({ type: 'state', game: stateOf(message.game), now: Date.now() }));
    } else if (message.type === 'move') {
      let b = boards.get(message.game);
      if (!b) boards.set(message.game, (b = { board: Array<string>(9).fill('.'), moves: [] }));
      b.board[message.cell] = message.ply % 2 === 0 ? 'X' : 'O';
      b.moves.push(message.cell);
      ws.send(JSON.stringify({ type: 'ack', id: message.id }));
      const state = JSON.stringify({ type: 'state', game: stateOf(message.game), now: Date.now() });
      for (const peer of rooms.get(message.game) ?? []) peer.send(state);
      if (b.moves.length === 9) boards.delete(message.game);
    }
  });
  ws.on('close', () => {
    const room = roomOf.get(ws);
    if (room) rooms.get(room)?.delete(ws);
    roomOf.delete(ws);
  });
});
wss.on('listening', () => emit({ listening: (wss.address() as { port: number }).port }));
