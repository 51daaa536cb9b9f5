import pino from 'pino';
import type { Logger } from 'pino';

type Destination = ReturnType<typeof pino.destination>;
const destinations = new WeakMap<Logger, Destination>();

/**
 * Structured JSON logs on stdout, the format log collectors and `docker logs` expect. Writes are
 * asynchronous (a request never waits for its log line); call `closeLogs` before exiting.
 */
export function createLogger(level: string): Logger {
  const destination = pino.destination({ dest: 1, sync: false });
  const logger = pino({ level, redact: ['req.headers.cookie', 'res.headers["set-cookie"]'] }, destination);
  destinations.set(logger, destination);
  return logger;
}

/**
 * Resolves once every line logged so far is written. Not `logger.flush(cb)`: with nothing left
 * in its buffer, sonic-boom calls back at once even while a write is still in flight, and a
 * process that exits then loses its last lines ("stopped" went missing that way).
 */
export function closeLogs(logger: Logger): Promise<void> {
  const destination = destinations.get(logger);
  if (!destination) return Promise.resolve();
  return new Promise((resolve) => {
    destination.once('close', () => resolve());
    destination.end();
  });
}
