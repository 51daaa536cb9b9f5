/**
 * A token bucket: bursts of `size` messages, `perSecond` sustained. One per live connection, on
 * an injected clock so that tests can move time.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;
  /** Messages refused since the last one allowed: a client that keeps sending is cut off. */
  refusedInARow = 0;

  constructor(
    private readonly size: number,
    private readonly perSecond: number,
    private readonly now: () => number,
  ) {
    this.tokens = size;
    this.refilledAt = now();
  }

  /** Takes one token if there is one; says whether the message may go through. */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.size, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.refusedInARow = 0;
      return true;
    }
    this.refusedInARow += 1;
    return false;
  }
}
