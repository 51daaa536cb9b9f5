import type { RequestHandler } from 'express';

/** Visitors get the welcome page; signed-in players get the lobby. */
export function homeRoute(showLobby: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (req.user) return showLobby(req, res, next);
    // Set after the session is gone, so these messages travel in the address rather than a flash.
    const notice =
      req.query.deleted !== undefined
        ? 'Your account has been deleted.'
        : req.query.logged_out !== undefined
          ? 'You have been logged out.'
          : null;
    res.render('home', { title: 'Tic-Tac-Toe Online', notice });
  };
}
