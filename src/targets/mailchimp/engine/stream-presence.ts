/**
 * Whether the streams named in `stream` are in the input at all. A name that matches nothing
 * while records of other streams go by unloaded (`"stream": "engag"` under tap-mixpanel's
 * `engage`) is a mistake that loses data: each state the tap sends moves its bookmarks past
 * records nobody loaded. So from the first ignored record on, while a configured stream has not
 * appeared, states are held (a stream a tap sends later releases them when it comes); if the
 * input ends first, the run fails with a config error naming what the input had, and the held
 * states are never printed. States before the first ignored record cover only loaded records,
 * and go out as usual.
 */
import { ConfigError } from '../../../errors/index.js';
import { didYouMean } from '../../../util/near-miss.js';

interface Ignored {
  records: number;
  batches: number;
}

function describeIgnored(stream: string, ignored: Ignored): string {
  const parts = [
    ...(ignored.records > 0 ? [`${ignored.records.toLocaleString('en-US')} ${ignored.records === 1 ? 'record' : 'records'}`] : []),
    ...(ignored.batches > 0 ? [`${ignored.batches} BATCH ${ignored.batches === 1 ? 'message' : 'messages'}`] : []),
  ];
  return `"${stream}" (${parts.join(', ')})`;
}

export class StreamPresence {
  private readonly unseen: Set<string>;
  private readonly ignored = new Map<string, Ignored>();

  constructor(configured: Iterable<string>) {
    this.unseen = new Set(configured);
  }

  /** A message of a configured stream (SCHEMA, RECORD, BATCH, ACTIVATE_VERSION). */
  seen(stream: string): void {
    this.unseen.delete(stream);
  }

  /** A record (or an unread BATCH) of a stream the target does not load. */
  ignore(stream: string, kind: 'record' | 'batch' = 'record'): void {
    let entry = this.ignored.get(stream);
    if (!entry) this.ignored.set(stream, (entry = { records: 0, batches: 0 }));
    if (kind === 'record') entry.records++;
    else entry.batches++;
  }

  /** States wait while a configured stream is missing and records of others went by unloaded. */
  get holdsStates(): boolean {
    return this.unseen.size > 0 && this.ignored.size > 0;
  }

  /**
   * At the end of the input: throws when a configured stream never came while others were ignored
   * (the held states are then never printed). Returns warnings for configured streams that never
   * came in an input that lost nothing by it (nothing was ignored), or in a run that did other work
   * (`otherWorkDone`: cohort tags) where no ignored stream is a near miss of a missing one (then
   * only notes for the log); states are no longer held after that.
   */
  finish(options: { otherWorkDone?: boolean } = {}): { warnings: string[]; notes: string[] } {
    if (this.unseen.size === 0) return { warnings: [], notes: [] };
    const missing = [...this.unseen];
    const names = [...this.ignored.keys()];
    const lines = missing.map((s) => `"stream" names "${s}", which the input never had (no SCHEMA or RECORD of it): nothing of it was loaded`);
    // The run did other work (cohort tags) and no ignored stream looks like a misspelt configured
    // one: a cohort-only pipe with the default "stream", worth a note, not an alert each hour.
    const typo = missing.some((s) => didYouMean(s, names) !== '');
    if (options.otherWorkDone === true && !typo) {
      this.unseen.clear();
      return { warnings: [], notes: lines };
    }
    if (this.ignored.size === 0) {
      this.unseen.clear();
      return { warnings: lines, notes: [] };
    }
    const had = [...this.ignored].map(([stream, ignored]) => describeIgnored(stream, ignored)).join(', ');
    throw new ConfigError(`no state was printed: the input never had ${missing.length === 1 ? 'the stream' : 'the streams'} named in "stream", and the records it had were not loaded`, {
      details: [
        ...missing.map((s) => `"stream" names "${s}", which is not in the input${didYouMean(s, names)}`),
        `the input had ${had}: set "stream" to the stream(s) that carry people, e.g. "stream": ${JSON.stringify(names[0])}`,
      ],
    });
  }
}
