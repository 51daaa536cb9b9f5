import { describe, expect, it } from 'vitest';
import { analyseMoves, positionAt } from '../../src/game/analysis.js';
import { bestMoves } from '../../src/game/ai.js';
import { classic, type Board } from '../../src/game/variants/classic.js';
import { serializeBoard } from '../../src/game/variants/classic.js';

describe('post-game analysis', () => {
  it('finds the move that lost a drawn game', () => {
    // X centre, O edge (a known losing reply), X corner, O blocks, X forks and wins.
    const moves = [4, 1, 0, 8, 6, 2, 3];
    const { verdicts, firstMistake } = analyseMoves(moves);
    expect(firstMistake).toBe(1);
    expect(verdicts[0]).toMatchObject({ mark: 'X', verdict: 'kept-draw', mistake: false });
    expect(verdicts[1]).toMatchObject({ mark: 'O', verdict: 'lost-draw', mistake: true });
    expect(verdicts[2]).toMatchObject({ mark: 'X', verdict: 'kept-win' });
    expect(verdicts.at(-1)).toMatchObject({ mark: 'X', verdict: 'kept-win' });
  });

  it('finds a thrown-away win', () => {
    // O errs at ply 1 (edge), X could then force a win, but plays 7 and lets it go.
    const { verdicts, firstMistake } = analyseMoves([4, 1, 7]);
    expect(firstMistake).toBe(1);
    expect(verdicts[2]).toMatchObject({ verdict: 'threw-win', mistake: true });
  });

  it('finds no mistake in a perfectly played draw', () => {
    const { verdicts, firstMistake } = analyseMoves([4, 0, 8, 2, 1, 7, 6, 3, 5]);
    expect(firstMistake).toBeNull();
    expect(verdicts.every((v) => v.verdict === 'kept-draw')).toBe(true);
  });

  it('replays positions and hints the winning move', () => {
    expect(serializeBoard(positionAt(classic, [4, 1, 0], 2) as Board)).toBe('.O..X....');
    // X to move can win at once in cell 2.
    expect(bestMoves(positionAt(classic, [0, 3, 1, 4], 4) as Board)[0]).toBe(2);
  });
});
