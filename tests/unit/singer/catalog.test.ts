import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../src/errors/index.js';
import {
  buildMetadata,
  catalogSelectionReport,
  makeRecordFilter,
  parseCatalog,
  parseCatalogText,
  selectStreams,
  StreamSelection,
  type CatalogEntry,
  type MetadataEntry,
} from '../../../src/singer/catalog.js';
import type { JsonSchema } from '../../../src/singer/messages.js';

const SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    address: {
      type: 'object',
      properties: { city: { type: 'string' }, street: { type: 'string' } },
    },
  },
};

type Md = Record<string, unknown>;

function entry(metadata?: MetadataEntry[], extra: Partial<CatalogEntry> = {}): CatalogEntry {
  return { tap_stream_id: 'engage', stream: 'engage', schema: SCHEMA, ...(metadata ? { metadata } : {}), ...extra };
}

function stream(md: Md): MetadataEntry {
  return { breadcrumb: [], metadata: md };
}

function property(name: string, md: Md): MetadataEntry {
  return { breadcrumb: ['properties', name], metadata: md };
}

describe('selection rules (REFERENCE.md section 3)', () => {
  // [rule, stream metadata (null: no entry), property metadata for "email" (null: no entry), stream selected?, email selected?]
  it.each<[string, Md | null, Md | null, boolean, boolean]>([
    ['a property with no flags follows its selected stream', { selected: true }, {}, true, true],
    ['a property with no metadata entry follows its selected stream', { selected: true }, null, true, true],
    ['a property with no flags follows its unselected stream', { selected: false }, {}, false, false],
    ['parent unselected -> unselected, even with selected: true', { selected: false }, { selected: true }, false, false],
    ['parent unselected -> unselected, even when automatic', { selected: false }, { inclusion: 'automatic' }, false, false],
    ['unsupported -> unselected, even with selected: true', { selected: true }, { inclusion: 'unsupported', selected: true }, true, false],
    ['automatic -> selected, even with selected: false', { selected: true }, { inclusion: 'automatic', selected: false }, true, true],
    ['selected: false wins over selected-by-default: true', { selected: true }, { selected: false, 'selected-by-default': true }, true, false],
    ['selected: true wins over selected-by-default: false', { selected: true }, { selected: true, 'selected-by-default': false }, true, true],
    ['selected-by-default: false when the user did not choose', { selected: true }, { inclusion: 'available', 'selected-by-default': false }, true, false],
    ['selected-by-default: true when the user did not choose', { selected: true }, { inclusion: 'available', 'selected-by-default': true }, true, true],
    ['a stream selected by default', { 'selected-by-default': true }, {}, true, true],
    ['a stream with neither flag is unselected', { inclusion: 'available' }, { selected: true }, false, false],
    ['a stream without a stream-level entry is unselected', null, { selected: true }, false, false],
    ['an automatic stream is selected', { inclusion: 'automatic' }, {}, true, true],
    ['an unsupported stream is unselected', { inclusion: 'unsupported', selected: true }, { selected: true }, false, false],
    ['a non-boolean selected is not a choice', { selected: 'yes', 'selected-by-default': false }, {}, false, false],
  ])('%s', (_rule, streamMd, emailMd, streamSelected, emailSelected) => {
    const metadata = [...(streamMd ? [stream(streamMd)] : []), ...(emailMd ? [property('email', emailMd)] : [])];
    const selection = new StreamSelection(entry(metadata));
    expect(selection.streamSelected).toBe(streamSelected);
    expect(selection.isSelected(['properties', 'email'])).toBe(emailSelected);
  });

  it('selects everything of an entry that has no metadata at all', () => {
    const selection = new StreamSelection(entry());
    expect(selection.streamSelected).toBe(true);
    expect(selection.isSelected(['properties', 'email'])).toBe(true);
    expect(selection.isSelected(['properties', 'address', 'properties', 'city'])).toBe(true);
    expect(new StreamSelection(entry([])).streamSelected).toBe(true);
  });

  it('resolves nested property breadcrumbs against their parent property', () => {
    const selection = new StreamSelection(
      entry([
        stream({ selected: true }),
        property('address', { selected: true }),
        { breadcrumb: ['properties', 'address', 'properties', 'street'], metadata: { selected: false } },
      ]),
    );
    expect(selection.isSelected(['properties', 'address', 'properties', 'city'])).toBe(true);
    expect(selection.isSelected(['properties', 'address', 'properties', 'street'])).toBe(false);
  });

  it('unselects every nested property of an unselected parent property', () => {
    const selection = new StreamSelection(
      entry([
        stream({ selected: true }),
        property('address', { selected: false }),
        { breadcrumb: ['properties', 'address', 'properties', 'city'], metadata: { selected: true } },
      ]),
    );
    expect(selection.isSelected(['properties', 'address', 'properties', 'city'])).toBe(false);
  });
});

describe('selectedSchema and selectedProperties', () => {
  const selection = new StreamSelection(
    entry([
      stream({ selected: true }),
      property('id', { inclusion: 'automatic' }),
      property('email', { selected: false }),
      { breadcrumb: ['properties', 'address', 'properties', 'street'], metadata: { selected: false } },
    ]),
  );

  it('removes unselected properties, nested ones included, and keeps the other keywords', () => {
    expect(selection.selectedSchema()).toEqual({
      type: 'object',
      properties: {
        id: { type: 'string' },
        address: { type: 'object', properties: { city: { type: 'string' } } },
      },
    });
  });

  it('does not change the catalog schema', () => {
    selection.selectedSchema();
    expect(Object.keys(SCHEMA.properties ?? {})).toEqual(['id', 'email', 'address']);
  });

  it('lists the selected top-level properties', () => {
    expect(selection.selectedProperties()).toEqual(['id', 'address']);
  });
});

describe('makeRecordFilter', () => {
  const full: JsonSchema = { properties: { a: {}, b: {}, c: {} } };
  const selected: JsonSchema = { properties: { a: {}, b: {} } };
  const record = { a: 1, b: 2, c: 3, new_property: 4 };

  it('drops unselected properties and keeps ones discovery never saw when keepUnknown is true', () => {
    expect(makeRecordFilter(selected, full, true)(record)).toEqual({ a: 1, b: 2, new_property: 4 });
  });

  it('drops unselected and unknown properties when keepUnknown is false', () => {
    expect(makeRecordFilter(selected, full, false)(record)).toEqual({ a: 1, b: 2 });
  });

  it('passes records through untouched when everything is selected and unknown properties are kept', () => {
    const filter = makeRecordFilter(full, full, true);
    expect(filter(record)).toBe(record);
  });

  it('still drops unknown properties when everything is selected but keepUnknown is false', () => {
    expect(makeRecordFilter(full, full, false)(record)).toEqual({ a: 1, b: 2, c: 3 });
  });

  it('does not change the record it filters', () => {
    const input = { ...record };
    makeRecordFilter(selected, full, false)(input);
    expect(input).toEqual(record);
  });
});

describe('StreamSelection.replication', () => {
  it.each<[string, Md, Partial<CatalogEntry>, { method?: string; key?: string }]>([
    ['nothing set', {}, {}, {}],
    ['metadata only (PipelineWise)', { 'replication-method': 'INCREMENTAL', 'replication-key': 'time' }, {}, { method: 'INCREMENTAL', key: 'time' }],
    ['top-level keys only (Meltano)', {}, { replication_method: 'FULL_TABLE', replication_key: 'updated' }, { method: 'FULL_TABLE', key: 'updated' }],
    [
      'metadata wins over the top-level keys',
      { 'replication-method': 'INCREMENTAL', 'replication-key': 'time' },
      { replication_method: 'FULL_TABLE', replication_key: 'updated' },
      { method: 'INCREMENTAL', key: 'time' },
    ],
    ['method names in any case and with dashes', { 'replication-method': 'full-table' }, {}, { method: 'FULL_TABLE' }],
    ['lower-case top-level method', {}, { replication_method: 'incremental' }, { method: 'INCREMENTAL' }],
    ['LOG_BASED (PipelineWise\'s default) is passed on as written', { 'replication-method': 'LOG_BASED' }, { replication_method: 'FULL_TABLE' }, { method: 'LOG_BASED' }],
    ['spaces around the method are ignored', { 'replication-method': ' incremental ' }, {}, { method: 'INCREMENTAL' }],
    ['an unknown method is passed on as written (replication.ts refuses it)', { 'replication-method': 'log-base' }, {}, { method: 'LOG_BASE' }],
    ['an empty key is ignored', {}, { replication_key: '' }, {}],
    ['an empty method is ignored', { 'replication-method': '' }, { replication_method: 'FULL_TABLE' }, { method: 'FULL_TABLE' }],
    [
      'forced-replication-method in the catalog is discovery\'s note, not a request',
      { 'forced-replication-method': 'INCREMENTAL', 'replication-method': 'FULL_TABLE' },
      {},
      { method: 'FULL_TABLE' },
    ],
  ])('%s', (_case, md, topLevel, expected) => {
    expect(new StreamSelection(entry([stream({ selected: true, ...md })], topLevel)).replication()).toEqual(expected);
  });

  it('reads other stream-level metadata by key', () => {
    const selection = new StreamSelection(entry([stream({ selected: true, 'table-key-properties': ['id'] })]));
    expect(selection.streamMetadata('table-key-properties')).toEqual(['id']);
    expect(selection.streamMetadata('missing')).toBeUndefined();
  });
});

describe('buildMetadata', () => {
  it('writes stream metadata and one entry per property, sorted, with keys and the replication key automatic', () => {
    const metadata = buildMetadata({
      schema: { properties: { time: {}, event: {}, distinct_id: {}, city: {} } },
      keyProperties: ['event', 'distinct_id'],
      replicationMethod: 'INCREMENTAL',
      forcedReplicationMethod: 'INCREMENTAL',
      replicationKey: 'time',
      validReplicationKeys: ['time'],
      selectedByDefault: true,
    });
    expect(metadata).toEqual([
      {
        breadcrumb: [],
        metadata: {
          inclusion: 'available',
          'selected-by-default': true,
          'table-key-properties': ['event', 'distinct_id'],
          'forced-replication-method': 'INCREMENTAL',
          'valid-replication-keys': ['time'],
        },
      },
      { breadcrumb: ['properties', 'city'], metadata: { inclusion: 'available', 'selected-by-default': true } },
      { breadcrumb: ['properties', 'distinct_id'], metadata: { inclusion: 'automatic', 'selected-by-default': true } },
      { breadcrumb: ['properties', 'event'], metadata: { inclusion: 'automatic', 'selected-by-default': true } },
      { breadcrumb: ['properties', 'time'], metadata: { inclusion: 'automatic', 'selected-by-default': true } },
    ] satisfies MetadataEntry[]);
  });

  it('leaves out forced-replication-method and empty valid-replication-keys', () => {
    const [root] = buildMetadata({
      schema: { properties: {} },
      keyProperties: [],
      replicationMethod: 'FULL_TABLE',
      validReplicationKeys: [],
      selectedByDefault: false,
    });
    expect(root).toEqual({ breadcrumb: [], metadata: { inclusion: 'available', 'selected-by-default': false, 'table-key-properties': [] } });
  });

  it('produces a catalog entry that the selection rules read back as selected by default', () => {
    const metadata = buildMetadata({
      schema: SCHEMA,
      keyProperties: ['id'],
      replicationMethod: 'FULL_TABLE',
      selectedByDefault: true,
    });
    const selection = new StreamSelection(entry(metadata));
    expect(selection.streamSelected).toBe(true);
    expect(selection.selectedProperties()).toEqual(['id', 'email', 'address']);
  });
});

describe('parseCatalog', () => {
  function parseError(raw: unknown): string {
    try {
      parseCatalog(raw, 'catalog.json');
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      return (err as InputError).message;
    }
    throw new Error('expected the catalog to be rejected');
  }

  it.each<[string, unknown, string]>([
    ['null', null, 'catalog catalog.json: expected an object with a "streams" array (the output of --discover)'],
    ['an array', [], 'catalog catalog.json: expected an object with a "streams" array (the output of --discover)'],
    ['streams not an array', { streams: {} }, 'catalog catalog.json: expected an object with a "streams" array (the output of --discover)'],
    ['an entry that is not an object', { streams: [7] }, 'catalog catalog.json: streams[0] is not an object'],
    ['an entry without tap_stream_id or stream', { streams: [{ schema: {} }] }, 'catalog catalog.json: streams[0] has no "tap_stream_id"'],
    ['an entry without schema', { streams: [{ tap_stream_id: 'engage' }] }, 'catalog catalog.json: streams[0] (engage) has no "schema"'],
    ['metadata not an array', { streams: [{ tap_stream_id: 'engage', schema: {}, metadata: {} }] }, 'catalog catalog.json: streams[0] "metadata" must be an array'],
    [
      'a metadata entry without breadcrumb',
      { streams: [{ tap_stream_id: 'a', schema: {} }, { tap_stream_id: 'engage', schema: {}, metadata: [{ metadata: {} }] }] },
      'catalog catalog.json: streams[1] has a metadata entry without a "breadcrumb" array',
    ],
    [
      'a null metadata entry',
      { streams: [{ tap_stream_id: 'engage', schema: {}, metadata: [null] }] },
      'catalog catalog.json: streams[0] has a metadata entry without a "breadcrumb" array',
    ],
  ])('rejects %s, naming the file and the entry', (_case, raw, message) => {
    expect(parseError(raw)).toBe(message);
  });

  it('fills tap_stream_id from stream, and stream from tap_stream_id', () => {
    const catalog = parseCatalog({ streams: [{ stream: 'engage', schema: {} }, { tap_stream_id: 'export', schema: {} }] }, 'c.json');
    expect(catalog.streams.map((s) => [s.tap_stream_id, s.stream])).toEqual([
      ['engage', 'engage'],
      ['export', 'export'],
    ]);
  });

  it('accepts an empty catalog', () => {
    expect(parseCatalog({ streams: [] }, 'c.json')).toEqual({ streams: [] });
  });
});

describe('parseCatalogText', () => {
  it('reads a catalog file that starts with a byte order mark and uses CRLF', () => {
    const text = '\uFEFF' + JSON.stringify({ streams: [{ tap_stream_id: 'engage', schema: {} }] }, null, 2).replace(/\n/g, '\r\n');
    expect(parseCatalogText(text, 'c.json').streams.map((s) => s.tap_stream_id)).toEqual(['engage']);
  });

  it('names line and column of a syntax error, without quoting the file', () => {
    let error: unknown;
    try {
      parseCatalogText('{\n  "streams": [\n    {"tap_stream_id": engage}\n  ]\n}', 'c.json');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe(
      'catalog file c.json is not valid JSON: line 3, column 23: expected a value (an object, array, string, number, true, false or null), found a letter',
    );
  });
});

describe('catalogSelectionReport', () => {
  const known = ['export', 'engage'];
  const catalog = (...entries: Array<[string, boolean | undefined]>) => ({
    streams: entries.map(([id, selected]) => ({
      tap_stream_id: id,
      stream: id,
      schema: SCHEMA,
      ...(selected === undefined ? {} : { metadata: [stream({ selected })] }),
    })),
  });

  it('lists selected streams the tap does not have, and the ones it has', () => {
    expect(catalogSelectionReport(catalog(['engage', true], ['users', true], ['events', false], ['export', false]), known)).toEqual({
      unknownSelected: ['users'],
      knownSelected: ['engage'],
    });
  });

  it('counts an entry without metadata as selected (the Singer rule)', () => {
    expect(catalogSelectionReport(catalog(['people', undefined]), known)).toEqual({ unknownSelected: ['people'], knownSelected: [] });
  });

  it('reports nothing selected for a catalog that deselects everything', () => {
    expect(catalogSelectionReport(catalog(['engage', false], ['export', false]), known)).toEqual({ unknownSelected: [], knownSelected: [] });
  });
});

describe('selectStreams', () => {
  const catalog = {
    streams: [
      entry([stream({ 'selected-by-default': true }), property('email', { selected: false })], { tap_stream_id: 'engage', stream: 'engage' }),
      entry(undefined, { tap_stream_id: 'export', stream: 'export' }),
    ],
  };

  it('selects exactly the named streams at stream level and leaves property choices alone', () => {
    const selected = selectStreams(catalog, ['export']);
    const [engage, exp] = selected.streams.map((e) => new StreamSelection(e));
    expect(engage?.streamSelected).toBe(false);
    expect(exp?.streamSelected).toBe(true);
    expect(selected.streams[0]?.metadata?.find((m) => m.breadcrumb[1] === 'email')?.metadata).toEqual({ selected: false });
  });

  it('does not change the catalog it is given', () => {
    const before = structuredClone(catalog);
    selectStreams(catalog, ['engage']);
    expect(catalog).toEqual(before);
  });
});
