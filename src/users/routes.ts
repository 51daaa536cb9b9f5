/** Profiles and the leaderboard. */
import type { RequestHandler } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { LEVEL_NAMES } from '../game/model.js';
import { DELETED_NAME, outcomeFor, seatName, seatOf, type GameRow } from '../game/row.js';
import { otherMark } from '../game/variants/types.js';
import { HttpError } from '../web/errors.js';
import { displayRating, isProvisional } from './ratings.js';
import * as usersStore from './store.js';

const PAGE_SIZE = 20;
const pageParam = z.coerce.number().int().min(1).max(10_000).catch(1);

const OUTCOME_WORDS = { won: 'Won', lost: 'Lost', draw: 'Draw' } as const;

/** One line of a profile's game history, from the profile owner's side. */
function historyLine(row: GameRow, userId: number) {
  const you = seatOf(row, userId) ?? 'X';
  const opponent = seatName(row, otherMark(you));
  const ratingChange = you === 'X' ? row.xRatingChange : row.oRatingChange;
  return {
    id: row.id,
    opponent: opponent ?? '—',
    opponentLink: row.mode !== 'ai' && opponent !== DELETED_NAME ? opponent : null,
    result: OUTCOME_WORDS[outcomeFor(row.result, you) ?? 'draw'],
    you,
    ratingChange: ratingChange === null ? null : Math.round(ratingChange),
    finishedAt: new Date(row.finishedAt ?? row.updatedAt),
  };
}

export function userRoutes({ db }: { db: Pool }) {
  const showProfile: RequestHandler = async (req, res) => {
    const profile = await usersStore.findProfile(db, String(req.params.username));
    if (!profile) throw new HttpError(404, 'There is no player with that name.');
    const page = pageParam.parse(req.query.page);
    const [record, rows] = await Promise.all([
      usersStore.recordOf(db, profile.id),
      usersStore.finishedGames(db, profile.id, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE),
    ]);
    const games = rows.slice(0, PAGE_SIZE).map((row) => historyLine(row, profile.id));
    res.render('profile', {
      title: profile.username,
      profile,
      rating: displayRating(profile),
      provisional: isProvisional(profile),
      record,
      games,
      page,
      hasNext: rows.length > PAGE_SIZE,
      levelNames: LEVEL_NAMES,
    });
  };

  const showLeaderboard: RequestHandler = async (_req, res) => {
    const rows = await usersStore.leaderboard(db, 200);
    const shown = rows.map((row) => ({ ...row, display: displayRating(row) }));
    res.render('leaderboard', {
      title: 'Leaderboard',
      ranked: shown.filter((row) => !isProvisional(row)),
      provisional: shown.filter((row) => isProvisional(row)),
    });
  };

  return { showProfile, showLeaderboard };
}
