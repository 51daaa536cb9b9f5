import type { RequestHandler } from 'express';

export const showHome: RequestHandler = (req, res) => {
  res.render('home', { title: 'Tic-Tac-Toe Online', loggedOut: req.query.logged_out !== undefined && !req.user });
};
