import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../../src/errors/index.js';
import { StreamPresence } from '../../../../src/targets/mailchimp/engine/stream-presence.js';

type Step = ['seen', string] | ['ignore', string] | ['batch', string];

function replay(configured: string[], steps: Step[]): StreamPresence {
  const presence = new StreamPresence(configured);
  for (const [what, stream] of steps) {
    if (what === 'seen') presence.seen(stream);
    else presence.ignore(stream, what === 'batch' ? 'batch' : 'record');
  }
  return presence;
}

describe('StreamPresence: when states wait for a configured stream', () => {
  it.each<[string, string[], Step[], boolean]>([
    ['nothing read yet', ['engage'], [], false],
    ['the stream came first', ['engage'], [['seen', 'engage'], ['ignore', 'export']], false],
    ['another stream ignored before it', ['engage'], [['ignore', 'export']], true],
    ['it came after the ignored records', ['engage'], [['ignore', 'export'], ['seen', 'engage']], false],
    ['one of two configured streams came', ['engage', 'users'], [['seen', 'engage'], ['ignore', 'export']], true],
    ['an unread BATCH of another stream', ['engage'], [['batch', 'export']], true],
    ['no other stream, configured one missing', ['engage'], [], false],
  ])('%s', (_case, configured, steps, holds) => {
    expect(replay(configured, steps).holdsStates).toBe(holds);
  });
});

describe('StreamPresence.finish', () => {
  it('fails naming the stream, what the input had, and the stream meant', () => {
    const presence = replay(['engag'], [['ignore', 'engage'], ['ignore', 'engage'], ['ignore', 'export'], ['batch', 'export']]);
    let error: unknown;
    try {
      presence.finish();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { message, details } = error as ConfigError;
    expect(message).toContain('no state was printed');
    expect(details).toEqual([
      '"stream" names "engag", which is not in the input: did you mean "engage"?',
      'the input had "engage" (2 records), "export" (1 record, 1 BATCH message): set "stream" to the stream(s) that carry people, e.g. "stream": "engage"',
    ]);
  });

  it('warns, without failing, when the input had nothing else either', () => {
    expect(replay(['engage'], []).finish()).toEqual({ warnings: ['"stream" names "engage", which the input never had (no SCHEMA or RECORD of it): nothing of it was loaded'], notes: [] });
  });

  it('says nothing when every configured stream came', () => {
    expect(replay(['engage'], [['ignore', 'export'], ['seen', 'engage']]).finish()).toEqual({ warnings: [], notes: [] });
  });

  it('a run that did other work (cohort tags) with the default stream: a note, and the held states go', () => {
    const presence = replay(['engage'], [['ignore', 'export']]);
    expect(presence.finish({ otherWorkDone: true })).toEqual({ warnings: [], notes: [expect.stringContaining('"stream" names "engage"')] });
    expect(presence.holdsStates).toBe(false);
  });

  it('a run that did other work still fails when an ignored stream is a near miss of a configured one', () => {
    expect(() => replay(['engag'], [['ignore', 'engage']]).finish({ otherWorkDone: true })).toThrow(ConfigError);
  });
});
