/** Profiles and the leaderboard. */
import type { RequestHandler } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { computerName, LEVEL_NAMES } from '../game/model.js';
import type { Level } from '../game/ai.js';
import { renderError } from '../web/errors.js';
import { displayRating, isProvisional } from './ratings.js';
import * as usersStore from './store.js';

const PAGE_SIZE = 20;
const pageParam = z.coerce.number().int().min(1).max(10_000).catch(1);

function resultWords(result: string, you: 'X' | 'O'): 'Won' | 'Lost' | 'Draw' {
  if (result === 'draw') return 'Draw';
  return (result === 'x_won') === (you === 'X') ? 'Won' : 'Lost';
}

export function userRoutes({ db }: { db: Pool }) {
  const showProfile: RequestHandler = async (req, res) => {
    const profile = await usersStore.findProfile(db, String(req.params.username));
    if (!profile) return renderError(res, 404, 'There is no player with that name.');
    const page = pageParam.parse(req.query.page);
    const [record, rows] = await Promise.all([
      usersStore.recordOf(db, profile.id),
      usersStore.finishedGames(db, profile.id, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE),
    ]);
    const games = rows.slice(0, PAGE_SIZE).map((row) => ({
      id: row.id,
      opponent:
        row.mode === 'ai'
          ? computerName((row.aiLevel ?? 'perfect') as Level)
          : row.opponentDeleted
            ? 'deleted user'
            : (row.opponentName ?? '—'),
      opponentLink: row.mode !== 'ai' && !row.opponentDeleted ? row.opponentName : null,
      result: resultWords(row.result, row.you),
      you: row.you,
      ratingChange: row.ratingChange === null ? null : Math.round(row.ratingChange),
      finishedAt: row.finishedAt,
    }));
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
