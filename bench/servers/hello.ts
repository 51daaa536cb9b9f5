/** Baseline: the raw `node:http` hello world, to place every other figure. PORT from the environment. */
import { createServer } from 'node:http';
import { emit } from '../lib/common.js';

const server = createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '11' });
  res.end('hello world');
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  emit({ listening: (server.address() as { port: number }).port });
});
