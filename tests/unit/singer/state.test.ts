import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../src/errors/index.js';
import { compareBookmarkValues, parseState, parseStateText, StateStore, type BookmarkValue, type SingerState } from '../../../src/singer/state.js';

describe('compareBookmarkValues', () => {
  it.each<[string, BookmarkValue, BookmarkValue, '<' | '=' | '>']>([
    ['numbers numerically, not as text', 9, 10, '<'],
    ['equal numbers', 1700000000, 1700000000, '='],
    ['date-times by instant', '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z', '<'],
    ['the same instant written with different offsets', '2024-01-01T02:00:00+02:00', '2024-01-01T00:00:00.000Z', '='],
    ['an offset that makes the lexically larger text the earlier instant', '2024-01-01T09:00:00+05:00', '2024-01-01T05:00:00Z', '<'],
    ['a date against a date-time on the same day', '2024-01-01', '2024-01-01T00:00:01Z', '<'],
    ['fractional seconds', '2024-01-01T00:00:00.999Z', '2024-01-01T00:00:01Z', '<'],
    ['other strings lexically', 'b', 'a', '>'],
    ['equal strings', 'abc', 'abc', '='],
  ])('orders %s', (_case, a, b, expected) => {
    const result = compareBookmarkValues(a, b);
    expect(result < 0 ? '<' : result > 0 ? '>' : '=').toBe(expected);
    const reverse = compareBookmarkValues(b, a);
    expect(reverse < 0 ? '<' : reverse > 0 ? '>' : '=').toBe(expected === '<' ? '>' : expected === '>' ? '<' : '=');
  });

  it('reads a date-time without a zone as UTC, whatever zone the machine is in (make test-clocks runs this in other zones)', () => {
    // In Los Angeles, Date.parse would make the zone-less 01:30 (UTC) 08:30 UTC, later than 05:00 UTC.
    expect(compareBookmarkValues('2026-11-01T01:30:00', '2026-11-01T05:00:00Z')).toBeLessThan(0);
    expect(compareBookmarkValues('2026-11-01T01:30:00', '2026-11-01T01:30:00.000Z')).toBe(0);
    expect(compareBookmarkValues('2026-03-29T02:30:00', '2026-03-29T02:30:00+00:00')).toBe(0);
  });
});

describe('StateStore', () => {
  it('starts empty with currently_syncing null', () => {
    const store = new StateStore();
    expect(store.snapshot()).toEqual({ bookmarks: {}, currently_syncing: null });
    expect(store.get('export')).toBeUndefined();
  });

  it('moves a stream bookmark forward', () => {
    const store = new StateStore();
    expect(store.advance('export', { replication_key: 'time', replication_key_value: '2024-01-01T00:00:00Z' })).toBe(true);
    expect(store.advance('export', { replication_key: 'time', replication_key_value: '2024-01-02T00:00:00Z' })).toBe(true);
    expect(store.get('export')).toEqual({ replication_key: 'time', replication_key_value: '2024-01-02T00:00:00Z' });
  });

  it('never moves a stream bookmark backwards', () => {
    const store = new StateStore();
    store.advance('export', { replication_key: 'time', replication_key_value: '2024-01-02T00:00:00Z', last_day_read: '2024-01-01' });
    expect(store.advance('export', { replication_key: 'time', replication_key_value: '2024-01-01T23:00:00Z', last_day_read: '2023-12-31' })).toBe(false);
    expect(store.get('export')).toEqual({ replication_key: 'time', replication_key_value: '2024-01-02T00:00:00Z', last_day_read: '2024-01-01' });
  });

  it('compares instants, not text, when deciding what is backwards', () => {
    const store = new StateStore();
    store.advance('export', { replication_key_value: '2024-01-01T05:00:00Z' });
    // Lexically larger, but 04:00Z: behind the stored bookmark.
    expect(store.advance('export', { replication_key_value: '2024-01-01T09:00:00+05:00' })).toBe(false);
  });

  it('accepts an equal value (a bookmark may carry other progress, e.g. a sweep)', () => {
    const store = new StateStore();
    store.advance('export', { replication_key_value: 10 });
    expect(store.advance('export', { replication_key_value: 10, sweep: { through_day: '2024-01-05' } })).toBe(true);
    expect(store.get('export')).toEqual({ replication_key_value: 10, sweep: { through_day: '2024-01-05' } });
  });

  it('keeps partitions by context, each moving forward on its own', () => {
    const store = new StateStore();
    store.advance('funnels', { replication_key: 'date', replication_key_value: '2024-01-05' }, { funnel_id: 7 });
    store.advance('funnels', { replication_key: 'date', replication_key_value: '2024-01-09' }, { funnel_id: 8 });
    expect(store.advance('funnels', { replication_key: 'date', replication_key_value: '2024-01-04' }, { funnel_id: 7 })).toBe(false);
    expect(store.advance('funnels', { replication_key: 'date', replication_key_value: '2024-01-06' }, { funnel_id: 7 })).toBe(true);

    expect(store.get('funnels', { funnel_id: 7 })?.replication_key_value).toBe('2024-01-06');
    expect(store.get('funnels', { funnel_id: 8 })?.replication_key_value).toBe('2024-01-09');
    expect(store.get('funnels', { funnel_id: 9 })).toBeUndefined();
    expect(store.snapshot().bookmarks.funnels).toEqual({
      partitions: [
        { context: { funnel_id: 7 }, replication_key: 'date', replication_key_value: '2024-01-06' },
        { context: { funnel_id: 8 }, replication_key: 'date', replication_key_value: '2024-01-09' },
      ],
    });
  });

  it('matches a partition only by a context with the same keys and values', () => {
    const store = new StateStore();
    store.advance('cohort_members', { replication_key_value: 1 }, { cohort_id: 1, project: 2 });
    expect(store.get('cohort_members', { cohort_id: 1 })).toBeUndefined();
    expect(store.get('cohort_members', { cohort_id: 1, project: 3 })).toBeUndefined();
    expect(store.get('cohort_members', { project: 2, cohort_id: 1 })?.replication_key_value).toBe(1);
  });

  it('keeps the partitions when the stream-level bookmark moves', () => {
    const store = new StateStore();
    store.advance('cohort_members', { replication_key_value: 1 }, { cohort_id: 1 });
    store.advance('cohort_members', { replication_key_value: '2024-01-01' });
    expect(store.snapshot().bookmarks.cohort_members).toEqual({
      replication_key_value: '2024-01-01',
      partitions: [{ context: { cohort_id: 1 }, replication_key_value: 1 }],
    });
  });

  it('forgets a stream on clear', () => {
    const store = new StateStore();
    store.advance('engage', { replication_key_value: 'x' });
    store.advance('export', { replication_key_value: 'y' });
    store.clear('engage');
    expect(store.snapshot().bookmarks).toEqual({ export: { replication_key_value: 'y' } });
  });

  it('records currently_syncing', () => {
    const store = new StateStore();
    store.setCurrentlySyncing('export');
    expect(store.currentlySyncing).toBe('export');
    expect(store.snapshot().currently_syncing).toBe('export');
    store.setCurrentlySyncing(null);
    expect(store.snapshot().currently_syncing).toBeNull();
  });

  it('hands out snapshots that later changes do not reach, and that cannot change the store', () => {
    const store = new StateStore();
    store.advance('export', { replication_key_value: '2024-01-01T00:00:00Z' });
    const before = store.snapshot();
    store.advance('export', { replication_key_value: '2024-02-01T00:00:00Z' });
    expect(before.bookmarks.export?.replication_key_value).toBe('2024-01-01T00:00:00Z');

    const snapshot = store.snapshot();
    (snapshot.bookmarks.export as { replication_key_value: string }).replication_key_value = '1999-01-01';
    expect(store.get('export')?.replication_key_value).toBe('2024-02-01T00:00:00Z');
  });

  it('copies the state it starts from, and the bookmarks it is given', () => {
    const initial: SingerState = { bookmarks: { export: { replication_key_value: 'a' } } };
    const store = new StateStore(initial);
    const bookmark = { replication_key_value: 'b', sweep: { through_day: '2024-01-01' } };
    store.advance('export', bookmark);
    bookmark.sweep.through_day = '2030-01-01';
    expect(initial.bookmarks.export?.replication_key_value).toBe('a');
    expect(store.get('export')).toEqual({ replication_key_value: 'b', sweep: { through_day: '2024-01-01' } });
  });
});

describe('parseState', () => {
  it('reads our own shape', () => {
    const raw = {
      bookmarks: {
        export: { replication_key: 'time', replication_key_value: '2024-01-31T00:00:00.000Z', last_day_read: '2024-01-30' },
        funnels: { partitions: [{ context: { funnel_id: 7 }, replication_key: 'date', replication_key_value: '2024-01-05' }] },
      },
      currently_syncing: 'export',
    };
    expect(parseState(raw, 'state.json')).toEqual(raw);
  });

  it('reads bare-string bookmarks written by older Mixpanel taps', () => {
    expect(parseState({ bookmarks: { export: '2024-01-01T00:00:00Z', engage: 1700000000 } }, 'state.json')).toEqual({
      bookmarks: { export: { replication_key_value: '2024-01-01T00:00:00Z' }, engage: { replication_key_value: 1700000000 } },
      currently_syncing: null,
    });
  });

  it('reads a whole STATE message', () => {
    expect(parseState({ type: 'STATE', value: { bookmarks: { export: { replication_key_value: 'x' } } } }, 'state.json')).toEqual({
      bookmarks: { export: { replication_key_value: 'x' } },
      currently_syncing: null,
    });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['an empty object', {}],
    ['a STATE message holding null', { type: 'STATE', value: null }],
    ["Meltano's envelope holding nothing", { singer_state: null }],
    ["Meltano's envelope holding {}", { singer_state: {} }],
  ])('treats %s as no state', (_case, raw) => {
    const state = parseState(raw, 'state.json');
    expect(state.bookmarks).toEqual({});
    expect(new StateStore(state).snapshot()).toEqual({ bookmarks: {}, currently_syncing: null });
  });

  it("reads Meltano's envelope, what `meltano state get` prints", () => {
    const inner = { bookmarks: { engage: { replication_key: 'mp_reserved_last_seen', replication_key_value: '2024-01-05T00:00:00.000Z' } }, currently_syncing: null };
    expect(parseState({ singer_state: inner }, 'state.json')).toEqual(inner);
  });

  it('reads currently_syncing without bookmarks, as singer-python writes it before the first bookmark', () => {
    expect(parseState({ currently_syncing: 'export' }, 'state.json')).toEqual({ bookmarks: {}, currently_syncing: 'export' });
  });

  it('keeps other top-level keys', () => {
    expect(parseState({ bookmarks: {}, summary: { runs: 3 } }, 's')).toEqual({ bookmarks: {}, summary: { runs: 3 }, currently_syncing: null });
  });

  it('copies what it reads', () => {
    const raw = { bookmarks: { export: { replication_key_value: 'x' } } };
    const state = parseState(raw, 's');
    raw.bookmarks.export.replication_key_value = 'changed';
    expect(state.bookmarks.export?.replication_key_value).toBe('x');
  });

  it.each<[string, unknown, string]>([
    ['an array', [], 'state /tmp/state.json: expected a JSON object with "bookmarks", as this tap writes (got a list); remove the file to start from start_date'],
    ['a string', 'bookmarks', 'state /tmp/state.json: expected a JSON object with "bookmarks", as this tap writes (got a string); remove the file to start from start_date'],
    ['a number', 42, 'state /tmp/state.json: expected a JSON object with "bookmarks", as this tap writes (got a number); remove the file to start from start_date'],
    [
      'an object without bookmarks',
      { foo: 1 },
      'state /tmp/state.json: has no "bookmarks" (its keys: "foo"), so it is not a state this tap wrote ({"bookmarks": {...}}): give the last state line the target printed, or an empty file to start from start_date',
    ],
    [
      'another program\'s file, next to currently_syncing',
      { currently_syncing: 'export', last_run: '2024-01-01', cursor: 'abc', a: 1, b: 2, c: 3, d: 4 },
      'state /tmp/state.json: has no "bookmarks" (its keys: "last_run", "cursor", "a", "b", "c" and 1 more), so it is not a state this tap wrote ({"bookmarks": {...}}): give the last state line the target printed, or an empty file to start from start_date',
    ],
    ['a STATE message whose value is a list', { type: 'STATE', value: [] }, 'state /tmp/state.json: the STATE message\'s "value" must be an object with "bookmarks" (got a list)'],
    ['a STATE message without a value', { type: 'STATE' }, 'state /tmp/state.json: the STATE message\'s "value" must be an object with "bookmarks" (got nothing)'],
    [
      "Meltano's envelope next to other keys",
      { singer_state: { bookmarks: {} }, state_id: 'dev:tap-mixpanel-to-target-mailchimp' },
      'state /tmp/state.json: "singer_state" (Meltano\'s envelope) next to other keys ("state_id"): give the tap the object inside "singer_state"',
    ],
    [
      "Meltano's envelope around something that is no state",
      { singer_state: { foo: 1 } },
      'state /tmp/state.json: has no "bookmarks" (its keys: "foo"), so it is not a state this tap wrote ({"bookmarks": {...}}): give the last state line the target printed, or an empty file to start from start_date',
    ],
    ["Meltano's envelope around a string", { singer_state: 'x' }, 'state /tmp/state.json: expected a JSON object with "bookmarks", as this tap writes (got a string); remove the file to start from start_date'],
    [
      'a Meltano state backend file',
      { completed: { singer_state: { bookmarks: {} } }, partial: {} },
      'state /tmp/state.json: is a Meltano state backend file ({"completed": ..., "partial": ...}), not a state: give the tap what `meltano state get <state_id>` prints, or the object under completed.singer_state',
    ],
    ['bookmarks as an array', { bookmarks: [] }, 'state /tmp/state.json: "bookmarks" must be an object (got a list)'],
    ['bookmarks as a string', { bookmarks: 'x' }, 'state /tmp/state.json: "bookmarks" must be an object (got a string)'],
    ['a bookmark that is a list', { bookmarks: { export: ['x'] } }, 'state /tmp/state.json: bookmarks.export must be an object or a string (got a list)'],
    ['a bookmark that is true', { bookmarks: { engage: true } }, 'state /tmp/state.json: bookmarks.engage must be an object or a string (got a boolean)'],
    ['partitions that are not a list', { bookmarks: { funnels: { partitions: {} } } }, 'state /tmp/state.json: bookmarks.funnels.partitions must be an array (got an object)'],
    [
      'a replication_key_value that is an object',
      { bookmarks: { export: { replication_key_value: { day: 1 } } } },
      'state /tmp/state.json: bookmarks.export.replication_key_value must be a string or a number (got an object)',
    ],
    [
      'a replication_key that is not a string',
      { bookmarks: { export: { replication_key: 3 } } },
      'state /tmp/state.json: bookmarks.export.replication_key must be a string, the name of the replication key (got 3)',
    ],
    [
      'a partition without a context',
      { bookmarks: { funnels: { partitions: [{ replication_key_value: '2024-01-01' }] } } },
      'state /tmp/state.json: bookmarks.funnels.partitions[0].context must be an object naming the partition, e.g. {"funnel_id": 7} (got nothing)',
    ],
    [
      'a partition that is a string',
      { bookmarks: { funnels: { partitions: ['x'] } } },
      'state /tmp/state.json: bookmarks.funnels.partitions[0] must be an object with a "context" (got a string)',
    ],
    [
      'a partition value that is a list',
      { bookmarks: { funnels: { partitions: [{ context: { funnel_id: 1 }, replication_key_value: [] }] } } },
      'state /tmp/state.json: bookmarks.funnels.partitions[0].replication_key_value must be a string or a number (got a list)',
    ],
  ])('rejects %s with an InputError naming the source', (_case, raw, message) => {
    let error: unknown;
    try {
      parseState(raw, '/tmp/state.json');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe(message);
  });
});

describe('parseState: null replication values', () => {
  it('reads a null replication_key_value as no value (some taps write it before their first run)', () => {
    expect(parseState({ bookmarks: { engage: { replication_key: 'x', replication_key_value: null } } }, 's').bookmarks.engage).toEqual({ replication_key: 'x' });
  });
});

function inputError(run: () => unknown): InputError {
  try {
    run();
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('parseStateText: what targets and orchestrators leave in a state file', () => {
  const first = { bookmarks: { export: { replication_key_value: '2024-01-01T00:00:00.000Z' } }, currently_syncing: 'export' };
  const last = { bookmarks: { export: { replication_key_value: '2024-01-03T00:00:00.000Z' } }, currently_syncing: null };
  const lines = [first, { bookmarks: { export: { replication_key_value: '2024-01-02T00:00:00.000Z' } }, currently_syncing: 'export' }, last]
    .map((v) => JSON.stringify(v))
    .join('\n');

  it.each<[string, string]>([
    ['several state lines, as `target > state.json` captures them: the last one wins', `${lines}\n`],
    ['the same without a final newline', lines],
    ['the same with CRLF line ends and trailing blank lines', `${lines.replace(/\n/g, '\r\n')}\r\n\r\n\n`],
    ['the same after a byte order mark', `\uFEFF${lines}\n`],
    ['blank lines between the states', lines.replace(/\n/g, '\n\n  \n')],
    ['one pretty-printed document', JSON.stringify(last, null, 2)],
    ['one pretty-printed document with CRLF and a BOM', `\uFEFF${JSON.stringify(last, null, 2).replace(/\n/g, '\r\n')}\r\n`],
    ['a whole STATE message', JSON.stringify({ type: 'STATE', value: last })],
    ["Meltano's envelope (meltano state get), pretty-printed", JSON.stringify({ singer_state: last }, null, 2)],
    ['STATE message lines, as a tap writes them', `${JSON.stringify({ type: 'STATE', value: first })}\n${JSON.stringify({ type: 'STATE', value: last })}\n`],
  ])('reads %s', (_case, text) => {
    const content = parseStateText(text, 'state.json');
    expect(content.empty).toBe(false);
    expect(content.state).toEqual(last);
  });

  it('counts the state lines it read', () => {
    expect(parseStateText(lines, 's')).toMatchObject({ lines: 3 });
    expect(parseStateText(JSON.stringify(last, null, 2), 's')).toMatchObject({ lines: 1 });
  });

  it.each<[string, string, string]>([
    ['an empty file', '', 'is empty'],
    ['whitespace and newlines only', ' \n\r\n\t\n', 'is empty'],
    ['a BOM only', '\uFEFF', 'is empty'],
    ['null', 'null\n', 'holds null'],
    ['state lines ending with null', `${JSON.stringify(first)}\nnull\n`, 'ends with a null state (line 2)'],
    ['an empty object', '{}\n', 'holds {}'],
    ['state lines ending with an empty object', `${JSON.stringify(first)}\n{}\n`, 'ends with {} (line 2)'],
    ["Meltano's envelope holding null", '{"singer_state": null}', 'holds {"singer_state":null}'],
    ['a STATE message holding {}', '{"type": "STATE", "value": {}}', 'holds {"type":"STATE","value":{}}'],
  ])('reports %s as holding no state, with the reason', (_case, text, reason) => {
    expect(parseStateText(text, 'state.json')).toEqual({ state: undefined, empty: true, reason });
  });

  it('names the line and column of a state line that is not JSON, never its text', () => {
    const text = `${JSON.stringify(first)}\n{"bookmarks": {"export": SECRETISH}}\n${JSON.stringify(last)}\n`;
    const error = inputError(() => parseStateText(text, 'state.json'));
    expect(error.message).toBe(
      'state file state.json is not valid JSON: line 2, column 26: expected a value (an object, array, string, number, true, false or null), found a letter',
    );
    expect(error.message).not.toContain('SECRETISH');
  });

  it('names line and column in a broken pretty-printed document, counted in the whole file', () => {
    const text = '{\n  "bookmarks": {\n    "export": {"replication_key_value": "2024-01-01"\n  }\n';
    expect(inputError(() => parseStateText(text, 's.json')).message).toBe(
      "state file s.json is not valid JSON: line 5, column 1: expected ',' or '}' after a property value, found the end of the file",
    );
  });

  it('names the line of a last state that is not an object', () => {
    expect(inputError(() => parseStateText(`${JSON.stringify(first)}\n[1, 2]\n`, 's.json')).message).toBe(
      'state s.json line 2: expected a JSON object with "bookmarks", as this tap writes (got a list); remove the file to start from start_date',
    );
  });

  it('names the key of a bookmark with the wrong shape, and its line', () => {
    const bad = { bookmarks: { export: { replication_key_value: { at: 1 } } } };
    expect(inputError(() => parseStateText(`${JSON.stringify(first)}\n${JSON.stringify(bad)}\n`, 's.json')).message).toBe(
      'state s.json line 2: bookmarks.export.replication_key_value must be a string or a number (got an object)',
    );
  });

  it('names the line of a last state that is another program\'s object', () => {
    expect(inputError(() => parseStateText(`${JSON.stringify(first)}\n{"foo": 1}\n`, 's.json')).message).toBe(
      'state s.json line 2: has no "bookmarks" (its keys: "foo"), so it is not a state this tap wrote ({"bookmarks": {...}}): give the last state line the target printed, or an empty file to start from start_date',
    );
  });

  it('refuses a file of Singer messages that ends with something other than a state', () => {
    const record = JSON.stringify({ type: 'RECORD', stream: 'engage', record: { a: 1 } });
    expect(inputError(() => parseStateText(`${JSON.stringify({ type: 'STATE', value: first })}\n${record}\n`, 'out.jsonl')).message).toBe(
      "state out.jsonl line 2: is a RECORD message, not a state (give the target's output, or the tap's STATE lines)",
    );
  });
});
