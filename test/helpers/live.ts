/** A WebSocket client for tests: connects like the browser script does and collects what arrives. */
import { once } from 'node:events';
import request from 'supertest';
import WebSocket from 'ws';
import type { ClientMessage, ServerMessage } from '../../src/game/protocol.js';
import { GOOD_PASSWORD, sessionCookie, submitForm, uniqueName } from './app.js';

export interface TestSocket {
  ws: WebSocket;
  messages: ServerMessage[];
  send(message: ClientMessage | string): void;
  /** The first message (already received or still to come) that matches. */
  next<T extends ServerMessage>(match: (m: ServerMessage) => m is T, timeoutMs?: number): Promise<T>;
  next(match: (m: ServerMessage) => boolean, timeoutMs?: number): Promise<ServerMessage>;
  /**
   * The ack or error for request `id`, wherever it falls: the state a move produced may arrive
   * before the mover's ack (the event carries it), and `next` would then skip past that state.
   */
  reply(id: string, timeoutMs?: number): Promise<Extract<ServerMessage, { type: 'ack' | 'error' }>>;
  close(): Promise<void>;
}

/** Registers a fresh user against `baseUrl` and returns its id and session cookie. */
export async function signedIn(baseUrl: string): Promise<{ cookie: string; username: string }> {
  const agent = request.agent(baseUrl);
  const username = uniqueName('live');
  const res = await submitForm(agent, '/register', '/register', { username, password: GOOD_PASSWORD, confirm: GOOD_PASSWORD });
  const cookie = sessionCookie(res);
  if (res.status !== 303 || !cookie) throw new Error(`registration failed: ${res.status}`);
  return { cookie, username };
}

/** Opens /ws with the cookie; rejects with the HTTP status if the upgrade is refused. */
export async function openSocket(baseUrl: string, cookie?: string, origin = baseUrl): Promise<TestSocket> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, {
    headers: { ...(cookie ? { Cookie: cookie } : {}), Origin: origin },
  });
  const messages: ServerMessage[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as ServerMessage);
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
  let seen = 0;
  return {
    ws,
    messages,
    send(message) {
      ws.send(typeof message === 'string' ? message : JSON.stringify(message));
    },
    // Generous: CI machines are shared, and a late message is still a correct one.
    next(match: (m: ServerMessage) => boolean, timeoutMs = 15_000) {
      return new Promise<ServerMessage>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages.slice(seen))}`)), timeoutMs);
        const look = () => {
          const index = messages.findIndex((m, i) => i >= seen && match(m));
          if (index === -1) return waiters.push(look);
          seen = index + 1;
          clearTimeout(timer);
          resolve(messages[index]!);
        };
        look();
      });
    },
    reply(id: string, timeoutMs = 15_000) {
      type Reply = Extract<ServerMessage, { type: 'ack' | 'error' }>;
      const isReply = (m: ServerMessage): m is Reply => (m.type === 'ack' || m.type === 'error') && m.id === id;
      return new Promise<Reply>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply to ${id} in ${timeoutMs} ms; got ${JSON.stringify(messages)}`)), timeoutMs);
        const look = () => {
          const found = messages.find(isReply);
          if (!found) return waiters.push(look);
          clearTimeout(timer);
          resolve(found);
        };
        look();
      });
    },
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close();
      await once(ws, 'close');
    },
  } as TestSocket;
}

export const isState = (m: ServerMessage): m is Extract<ServerMessage, { type: 'state' }> => m.type === 'state';
