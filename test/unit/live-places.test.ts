/** Socket places (src/live/upgrade.ts): nobody can exhaust an instance with sockets or messages. */
import { describe, expect, it } from 'vitest';
import { SocketPlaces } from '../../src/live/upgrade.js';

const LIMITS = { perAddress: 3, perAccount: 2, visitors: 4, total: 6 };

describe('SocketPlaces', () => {
  it('limits sockets per account, per visitor address, visitors in all and sockets in all', () => {
    const places = new SocketPlaces(() => 0, LIMITS);
    const alice = [places.admit({ userId: 1 }), places.admit({ userId: 1 })];
    expect(alice.every(Boolean)).toBe(true);
    expect(places.admit({ userId: 1 })).toBeNull(); // per account
    const visitors = [1, 2, 3].map(() => places.admit({ address: '10.0.0.1' }));
    expect(visitors.every(Boolean)).toBe(true);
    expect(places.admit({ address: '10.0.0.1' })).toBeNull(); // per address
    expect(places.admit({ address: '10.0.0.2' })).not.toBeNull();
    expect(places.admit({ address: '10.0.0.3' })).toBeNull(); // visitors in all (4)
    expect(places.admit({ userId: 2 })).toBeNull(); // sockets in all (6)
    places.release(alice[0]!);
    expect(places.admit({ userId: 2 })).not.toBeNull();
    places.release(visitors[0]!);
    expect(places.admit({ address: '10.0.0.3' })).not.toBeNull(); // a visitor's place came back
    expect(places.admit({ address: '10.0.0.4' })).toBeNull(); // and is taken again
  });

  it('gives all sockets of one person one message budget: more sockets do not mean more messages', () => {
    const places = new SocketPlaces(() => 0, { ...LIMITS, perAccount: 5 });
    const [a, b] = [places.admit({ userId: 7 })!, places.admit({ userId: 7 })!];
    expect(a.budget).toBe(b.budget);
    let allowed = 0;
    for (let i = 0; i < 50; i++) if ((i % 2 === 0 ? a : b).budget.take()) allowed += 1;
    expect(allowed).toBe(20);
    expect(places.admit({ userId: 8 })!.budget).not.toBe(a.budget);
  });

  it('starts a person afresh once all their sockets have closed', () => {
    const places = new SocketPlaces(() => 0, LIMITS);
    const first = places.admit({ userId: 1 })!;
    while (first.budget.take());
    places.release(first);
    expect(places.admit({ userId: 1 })!.budget.take()).toBe(true);
  });
});
