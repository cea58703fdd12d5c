/**
 * The Meltano plugin definitions agree with the config JSON Schemas, both ways: every schema key
 * is a setting with the right kind and `sensitive` flag, and every setting is a schema key. The
 * lists are read as YAML by their path (as Meltano reads them), so the check also holds for a
 * meltano.yml that Meltano rewrote without our marker comments. After changing a schema run
 * `npm run plugin-files`.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { parseDocument, stringify } from 'yaml';
import {
  expectedSettings,
  listedSettings,
  meltanoKind,
  meltanoSettings,
  PLUGIN_SETTINGS_FILES,
  replaceSettingsList,
  yamlSectionMarkers,
  type PluginSettingsFile,
} from '../../src/cli/plugin-definitions.js';
import { loadSchema } from '../../src/schemas/index.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const parse = (text: string) => parseDocument(text);

/** Top-level `key:` followed by `- item` lines. */
function yamlList(document: string, key: string): string[] {
  const lines = document.split('\n');
  const at = lines.findIndex((l) => l === `${key}:`);
  if (at < 0) return [];
  const items: string[] = [];
  for (const line of lines.slice(at + 1)) {
    const item = /^- (\S+)$/.exec(line);
    if (!item?.[1]) break;
    items.push(item[1]);
  }
  return items;
}

const CASES = PLUGIN_SETTINGS_FILES.map((entry) => ({ ...entry, where: entry.location.kind === 'project' ? entry.location.plugin : 'settings' }));

/** A meltano.yml as Meltano leaves it after rewriting it: no comments, its own indentation. */
function rewrittenByMeltano(text: string): string {
  const doc = parseDocument(text);
  const strip = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return;
    const n = node as { comment?: string; commentBefore?: string; items?: unknown[]; key?: unknown; value?: unknown };
    delete n.comment;
    delete n.commentBefore;
    for (const item of n.items ?? []) strip(item);
    strip(n.key);
    strip(n.value);
  };
  strip(doc.contents);
  doc.commentBefore = null;
  doc.comment = null;
  return doc.toString({ indentSeq: true, lineWidth: 0 });
}

describe('Meltano plugin definitions', () => {
  it.each(CASES)('$file ($where) lists exactly the settings of $schema, with kinds and sensitive flags', ({ file, location, schema }) => {
    const listed = listedSettings(read(file), location, parse) as Array<{ name: string; kind: string; sensitive: boolean }>;
    const loaded = loadSchema(schema);
    const expected = Object.entries(loaded.properties ?? {}).map(([name, prop]) => ({ name, kind: meltanoKind(prop), sensitive: prop.secret === true }));
    // Both directions: nothing missing, nothing extra, same kind, secret <-> sensitive.
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect(listed.map(({ name, kind, sensitive }) => ({ name, kind, sensitive })).sort(byName)).toEqual(expected.sort(byName));
    expect(listed).toEqual(expectedSettings(loaded));
  });

  it.each(CASES)('$file ($where) is what npm run plugin-files renders from $schema', ({ file, location, section, schema }) => {
    const text = read(file);
    expect(replaceSettingsList(text, { location, section }, loadSchema(schema), parse)).toBe(text);
    const [start, end] = yamlSectionMarkers(section);
    expect(text).toContain(start);
    expect(text).toContain(end);
  });

  it('finds the settings lists of a meltano.yml that Meltano rewrote (comments and markers gone, other indentation) and regenerates them there', () => {
    const original = read('meltano/meltano.yml');
    let rewritten = rewrittenByMeltano(original);
    expect(rewritten).not.toContain('generated from src/schemas');
    expect(rewritten).toMatch(/^ {4}- name: tap-mixpanel$/m);
    // A stale list, as after a schema change: one setting gone, one description edited.
    const doc = parseDocument(rewritten);
    const tapSettings = doc.getIn(['plugins', 'extractors', 0, 'settings']) as { items: unknown[] };
    tapSettings.items.splice(3, 1);
    doc.setIn(['plugins', 'loaders', 0, 'settings', 0, 'description'], 'out of date');
    rewritten = doc.toString({ indentSeq: true, lineWidth: 0 });

    const projectFiles = PLUGIN_SETTINGS_FILES.filter((f) => f.file === 'meltano/meltano.yml');
    const stale = projectFiles.map((f) => listedSettings(rewritten, f.location, parse));
    expect(stale).not.toEqual(projectFiles.map((f) => expectedSettings(loadSchema(f.schema))));

    const apply = (text: string) => projectFiles.reduce((t, f: PluginSettingsFile) => replaceSettingsList(t, f, loadSchema(f.schema), parse), text);
    const regenerated = apply(rewritten);
    for (const f of projectFiles) expect(listedSettings(regenerated, f.location, parse)).toEqual(expectedSettings(loadSchema(f.schema)));
    // Everything else is untouched, as data and as text outside the lists.
    const withoutSettings = (text: string) => {
      const data = parseDocument(text).toJS() as { plugins: Record<string, Array<Record<string, unknown>>> };
      for (const plugins of Object.values(data.plugins)) for (const p of plugins) delete p.settings;
      return data;
    };
    expect(withoutSettings(regenerated)).toEqual(withoutSettings(original));
    expect(regenerated.split('\n').slice(0, 5)).toEqual(rewritten.split('\n').slice(0, 5));
    expect(apply(regenerated)).toBe(regenerated);
  });

  it('names the path when a settings list cannot be found', () => {
    const text = stringify({ plugins: { extractors: [{ name: 'tap-other', settings: [{ name: 'x' }] }] } });
    const entry = PLUGIN_SETTINGS_FILES.find((f) => f.section === 'tap-mixpanel') as PluginSettingsFile;
    expect(() => replaceSettingsList(text, entry, loadSchema(entry.schema), parse)).toThrow('no plugins.extractors[name=tap-mixpanel].settings found');
  });

  it('tells Meltano users that array settings take JSON arrays (Meltano refuses comma-separated values)', () => {
    for (const schema of ['tap-mixpanel.config.json', 'target-mailchimp.config.json']) {
      const arrays = meltanoSettings(loadSchema(schema)).filter((s) => s.kind === 'array');
      expect(arrays.length).toBeGreaterThan(0);
      for (const setting of arrays) {
        expect(setting.description).not.toMatch(/comma-separated string/);
        expect(setting.description).toContain('In Meltano: a JSON array');
      }
    }
  });

  it('the example project has no deprecated version key, syncs engage INCREMENTAL (so Meltano stores a bookmark) and both cohort streams', async () => {
    const project = parseDocument(read('meltano/meltano.yml')).toJS() as {
      version?: unknown;
      plugins: { extractors: Array<{ name: string; select?: string[]; metadata?: Record<string, Record<string, unknown>> }> };
    };
    expect(project).not.toHaveProperty('version');
    const tap = project.plugins.extractors.find((p) => p.name === 'tap-mixpanel');
    expect(tap?.select).toEqual(['engage.*', 'cohorts.*', 'cohort_members.*']);
    const { STREAMS } = await import('../../src/taps/mixpanel/streams/index.js');
    const engage = STREAMS.find((s) => s.name === 'engage');
    expect(tap?.metadata?.engage?.['replication-method']).toBe('INCREMENTAL');
    expect(engage?.validReplicationKeys).toContain(tap?.metadata?.engage?.['replication-key']);
  });

  it.each([
    ['meltano/tap-mixpanel.yml', 'tap-mixpanel.config.json'],
    ['meltano/target-mailchimp.yml', 'target-mailchimp.config.json'],
  ])('%s: every settings group holds the required keys of %s and only known keys', (file, schemaName) => {
    const schema = loadSchema(schemaName);
    const known = new Set(Object.keys(schema.properties ?? {}));
    const lines = read(file).split('\n');
    const at = lines.indexOf('settings_group_validation:');
    expect(at).toBeGreaterThan(0);
    const groups: string[][] = [];
    for (const line of lines.slice(at + 1)) {
      const first = /^- - (\S+)$/.exec(line);
      const more = /^ {2}- (\S+)$/.exec(line);
      if (first?.[1]) groups.push([first[1]]);
      else if (more?.[1]) groups[groups.length - 1]?.push(more[1]);
      else break;
    }
    expect(groups.length).toBeGreaterThanOrEqual(2);
    for (const group of groups) {
      for (const key of group) expect(known).toContain(key);
      for (const key of schema.required ?? []) expect(group).toContain(key);
      // Each group is one way to authenticate: it names a secret.
      expect(group.some((k) => schema.properties?.[k]?.secret === true)).toBe(true);
    }
  });

  it('declares only capabilities the binaries have', async () => {
    const { TAP_CAPABILITIES } = await import('../../src/taps/mixpanel/main.js');
    const { TARGET_CAPABILITIES } = await import('../../src/targets/mailchimp/main.js');
    const tap = yamlList(read('meltano/tap-mixpanel.yml'), 'capabilities');
    const target = yamlList(read('meltano/target-mailchimp.yml'), 'capabilities');
    expect(tap).toEqual(expect.arrayContaining(['catalog', 'discover', 'state', 'about']));
    for (const c of tap) expect(TAP_CAPABILITIES).toContain(c);
    for (const c of target) expect(TARGET_CAPABILITIES).toContain(c);
    // Meltano: declare catalog or properties, not both.
    expect(tap.includes('catalog') && tap.includes('properties')).toBe(false);
  });

  it('maps schema types to Meltano kinds', () => {
    expect(meltanoKind({ type: 'string', format: 'date-time' })).toBe('date_iso8601');
    expect(meltanoKind({ type: 'string', enum: ['a'] })).toBe('options');
    expect(meltanoKind({ type: ['array', 'string'] })).toBe('array');
    expect(meltanoKind({ type: 'integer' })).toBe('integer');
    expect(meltanoKind({ type: 'number' })).toBe('string');
    expect(meltanoKind({ type: 'boolean' })).toBe('boolean');
    expect(meltanoKind({ type: 'object' })).toBe('object');
  });
});

describe('PipelineWise example', () => {
  const tapYaml = read('pipelinewise/tap_mixpanel.yml');

  /** Keys (commented-out ones too) indented two spaces under a top-level `key:`. */
  function blockKeys(document: string, key: string): string[] {
    const lines = document.split('\n');
    const at = lines.indexOf(`${key}:`);
    const keys: string[] = [];
    for (const line of lines.slice(at + 1)) {
      if (/^\S/.test(line)) break;
      const match = /^ {2}#?([a-z_]+):/.exec(line);
      if (match?.[1]) keys.push(match[1]);
    }
    return keys;
  }

  it('db_conn uses only settings the tap knows (PipelineWise writes it into config.json)', () => {
    const known = Object.keys(loadSchema('tap-mixpanel.config.json').properties ?? {});
    const keys = blockKeys(tapYaml, 'db_conn');
    expect(keys.length).toBeGreaterThan(5);
    for (const key of keys) expect(known).toContain(key);
  });

  it('has the keys PipelineWise requires, the tap-mixpanel type, and replicates streams the tap has', async () => {
    for (const key of ['id', 'name', 'type', 'db_conn', 'target', 'schemas']) expect(tapYaml).toMatch(new RegExp(`^${key}:`, 'm'));
    expect(tapYaml).toMatch(/^type: "tap-mixpanel"/m);
    const { STREAMS } = await import('../../src/taps/mixpanel/streams/index.js');
    const tables = [...tapYaml.matchAll(/^\s+- table_name: "([^"]+)"/gm)].map((m) => m[1]);
    expect(tables.length).toBeGreaterThan(0);
    for (const table of tables) expect(STREAMS.map((s) => s.name)).toContain(table);
    const target = /^target: "([^"]+)"/m.exec(tapYaml)?.[1];
    expect(read('pipelinewise/target_postgres.yml')).toMatch(new RegExp(`^id: "${target}"`, 'm'));
  });
});
