/**
 * Printing the states the sequencer says are due, one after another, each flushed before the
 * next. The text is printed as received: re-serialising could round a big integer bookmark. A
 * dry run prints none, because nothing was loaded. A failed write (the next program closed the
 * pipe) is handed to `onError` at once: left in the chain, it would reject with nobody waiting.
 */
import type { LineWriter } from '../../../singer/writer.js';
import type { Tally } from '../reports/outcomes.js';
import type { StateSequencer } from './sequencer.js';

export class StateOutput {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly o: { output: LineWriter; sequencer: StateSequencer; tally: Tally; dryRun: boolean; onError: (err: unknown) => void },
  ) {}

  /** Prints the latest due state, if any (after those already on their way). */
  release(): void {
    if (this.o.dryRun) return;
    const due = this.o.sequencer.due();
    if (due === undefined) return;
    const line = due + '\n';
    this.chain = this.chain
      .then(async () => {
        await this.o.output.writeLine(line);
        await this.o.output.flush();
        this.o.tally.statesEmitted++;
      })
      .catch(this.o.onError);
  }

  /** Settles when every state released so far is written. */
  settled(): Promise<void> {
    return this.chain;
  }
}
