/** The lobby: the home page of a signed-in player, and its lists as a fragment for live refresh. */
import type { RequestHandler } from 'express';
import type { Pool } from 'pg';
import { computerName, WAITING_EXPIRES_MS } from '../game/model.js';
import * as lobbyStore from './store.js';
import type { LobbyGameRow } from './store.js';

interface LobbyRow {
  id: string;
  title: string;
  detail: string;
  yourTurn: boolean;
}

const nameOf = (row: LobbyGameRow, mark: 'X' | 'O') =>
  (mark === 'X' ? row.xName : row.oName) ?? (row.aiMark === mark && row.aiLevel ? computerName(row.aiLevel) : 'waiting…');

function describeForPlayer(row: LobbyGameRow, viewerId: number): LobbyRow {
  const you = row.playerX === viewerId ? 'X' : 'O';
  const them = you === 'X' ? 'O' : 'X';
  const mover = row.ply % 2 === 0 ? 'X' : 'O';
  const opponent = (you === 'X' ? row.oName : row.xName) ?? (row.aiLevel ? computerName(row.aiLevel) : null);
  const title = opponent ? `You (${you}) vs ${opponent} (${them})` : `You (${you}), waiting for an opponent`;
  let detail: string;
  if (row.status === 'waiting') detail = row.mode === 'friend' ? 'Waiting for your friend' : 'Open, waiting for someone to join';
  else if (row.status === 'active') detail = mover === you ? 'Your turn' : 'Their turn';
  else if (row.status === 'aborted') detail = 'Aborted';
  else if (row.result === 'draw') detail = 'Draw';
  else detail = (row.result === 'x_won') === (you === 'X') ? 'You won' : 'You lost';
  return { id: row.id, title, detail, yourTurn: row.status === 'active' && mover === you };
}

function describeOpen(row: LobbyGameRow): LobbyRow {
  const mark = row.playerX !== null ? 'X' : 'O';
  return { id: row.id, title: `${nameOf(row, mark)} plays ${mark}`, detail: `You would play ${mark === 'X' ? 'O' : 'X'}`, yourTurn: false };
}

function describeLive(row: LobbyGameRow): LobbyRow {
  return {
    id: row.id,
    title: `${nameOf(row, 'X')} (X) vs ${nameOf(row, 'O')} (O)`,
    detail: `${row.ply} ${row.ply === 1 ? 'move' : 'moves'} played`,
    yourTurn: false,
  };
}

export function lobbyRoutes({ db, clock }: { db: Pool; clock: () => number }) {
  async function lists(viewerId: number) {
    const [open, mine, live] = await Promise.all([
      lobbyStore.openGames(db, viewerId, clock() - WAITING_EXPIRES_MS),
      lobbyStore.playerGames(db, viewerId),
      lobbyStore.liveGames(db, viewerId),
    ]);
    return {
      openGames: open.map(describeOpen),
      yourGames: mine.map((row) => describeForPlayer(row, viewerId)),
      liveGames: live.map(describeLive),
    };
  }

  const showLobby: RequestHandler = async (req, res) => {
    res.render('lobby', { title: 'Lobby', ...(await lists(req.user!.id)) });
  };

  /** The three lists alone, fetched by the lobby script when the socket says they changed. */
  const showLists: RequestHandler = async (req, res) => {
    res.render('partials/lobby-lists', await lists(req.user!.id));
  };

  return { showLobby, showLists };
}
