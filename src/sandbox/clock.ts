/**
 * The sandbox clock: starts at a chosen instant and advances with real time from there, so
 * late events become visible while a test or demo runs, and tests can jump it forward.
 */
export class SandboxClock {
  private offsetMs: number;

  constructor(startMs: number, private readonly realNow: () => number = Date.now) {
    this.offsetMs = startMs - realNow();
  }

  now(): number {
    return this.realNow() + this.offsetMs;
  }

  set(instantMs: number): void {
    this.offsetMs = instantMs - this.realNow();
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
