import type { RequestHandler } from 'express';

/** Visitors get the welcome page; signed-in players get the lobby. */
export function homeRoute(showLobby: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (req.user) return showLobby(req, res, next);
    res.render('home', { title: 'Tic-Tac-Toe Online', loggedOut: req.query.logged_out !== undefined });
  };
}
