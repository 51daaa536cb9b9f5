/**
 * PostgreSQL cannot hold a NUL character in text: a field or an address carrying one would reach a
 * query and fail there as a 500. No form or page of this site takes one, so such a request is
 * refused up front with a 400.
 */
import type { RequestHandler } from 'express';
import { HttpError } from './errors.js';

function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 5 || value === null || typeof value !== 'object') return false;
  return Object.entries(value).some(([key, item]) => key.includes('\u0000') || containsNul(item, depth + 1));
}

export const refuseNulCharacters: RequestHandler = (req, _res, next) => {
  if (/%00/i.test(req.url) || containsNul(req.query) || containsNul(req.body)) {
    next(new HttpError(400, 'The request contains a character this site does not accept.'));
    return;
  }
  next();
};
