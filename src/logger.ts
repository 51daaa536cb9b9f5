import { createRequire } from 'node:module';
import pino from 'pino';
import type { Logger } from 'pino';

type Destination = ReturnType<typeof pino.destination>;
const destinations = new WeakMap<Logger, Destination>();

/**
 * Structured JSON logs on stdout, the format log collectors and `docker logs` expect; in a
 * terminal (`npm start`, `npm run dev`) the same lines pretty-printed by pino-pretty, one line per
 * entry with the local time. Writes are asynchronous (a request never waits for its log line);
 * call `closeLogs` before exiting.
 */
export function createLogger(level: string, stdoutIsTerminal = process.stdout.isTTY === true): Logger {
  const destination = pino.destination({ dest: 1, sync: false });
  const stream = stdoutIsTerminal ? prettyStream(destination) : destination;
  const logger = pino({ level, redact: ['req.headers.cookie', 'res.headers["set-cookie"]'] }, stream);
  destinations.set(logger, destination);
  return logger;
}

/**
 * Formats each JSON line with pino-pretty before it reaches the destination. pino-pretty is loaded
 * only here, so that a server whose output goes to a pipe or a file never loads it.
 */
function prettyStream(destination: Destination): { write(line: string): boolean } {
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const format = prettyFactory({ translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true });
  return { write: (line: string) => destination.write(format(line)) };
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
