/** The lobby: the home page of a signed-in player, and its lists as a fragment for live refresh. */
import type { RequestHandler } from 'express';
import type { Pool } from 'pg';
import { LEVEL_NAMES, WAITING_EXPIRES_MS } from '../game/model.js';
import { moverAt, outcomeFor, seatName, seatOf, type GameRow } from '../game/row.js';
import { otherMark, VARIANT_IDS, VARIANTS, type Mark } from '../game/variants/index.js';
import { LEVELS } from '../game/engines/index.js';
import * as lobbyStore from './store.js';

interface LobbyRow {
  id: string;
  title: string;
  detail: string;
  yourTurn: boolean;
}

const OUTCOME_WORDS = { won: 'You won', lost: 'You lost', draw: 'Draw' } as const;

/** "Ultimate · Your turn": every line says which game it is. */
const withVariant = (row: GameRow, detail: string) => `${VARIANTS[row.variant].name} · ${detail}`;

function describeForPlayer(row: GameRow, viewerId: number): LobbyRow {
  const you = seatOf(row, viewerId) ?? 'X';
  const them = otherMark(you);
  const yourTurn = row.status === 'active' && moverAt(row.ply) === you;
  const opponent = seatName(row, them);
  const title = opponent ? `You (${you}) vs ${opponent} (${them})` : `You (${you}), waiting for an opponent`;
  let detail: string;
  if (row.status === 'waiting') detail = row.mode === 'friend' ? 'Waiting for your friend' : 'Open, waiting for someone to join';
  else if (row.status === 'active') detail = yourTurn ? 'Your turn' : 'Their turn';
  else if (row.status === 'aborted') detail = 'Aborted';
  else detail = OUTCOME_WORDS[outcomeFor(row.result, you)!];
  return { id: row.id, title, detail: withVariant(row, detail), yourTurn };
}

/** A seat's name, or that it is free. */
const nameOf = (row: GameRow, seat: Mark) => seatName(row, seat) ?? 'waiting…';

function describeOpen(row: GameRow): LobbyRow {
  const mark = row.playerX !== null ? 'X' : 'O';
  return { id: row.id, title: `${nameOf(row, mark)} plays ${mark}`, detail: withVariant(row, `You would play ${otherMark(mark)}`), yourTurn: false };
}

function describeLive(row: GameRow): LobbyRow {
  return {
    id: row.id,
    title: `${nameOf(row, 'X')} (X) vs ${nameOf(row, 'O')} (O)`,
    detail: withVariant(row, row.mode === 'ai' ? 'Against the computer' : 'Between two players'),
    yourTurn: false,
  };
}

/** The Variant select: each variant's rule in a sentence and what its strongest level is called. */
const VARIANT_CHOICES = VARIANT_IDS.map((id) => ({ id, name: VARIANTS[id].name, summary: VARIANTS[id].summary, topLevel: LEVEL_NAMES[LEVELS[id].at(-1)!] }));

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
    res.render('lobby', { title: 'Lobby', variants: VARIANT_CHOICES, ...(await lists(req.user!.id)) });
  };

  /** The three lists alone, fetched by the lobby script when the socket says they changed. */
  const showLists: RequestHandler = async (req, res) => {
    res.render('partials/lobby-lists', await lists(req.user!.id));
  };

  return { showLobby, showLists };
}
