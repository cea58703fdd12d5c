/**
 * The Meltano plugin definitions agree with the config JSON Schemas, both ways: every schema key
 * is a setting with the right kind and `sensitive` flag, and every setting is a schema key.
 * After changing a schema run `npm run plugin-files`.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { meltanoKind, renderMeltanoSettings, yamlSection } from '../../src/cli/plugin-definitions.js';
import { loadSchema } from '../../src/schemas/index.js';
import type { JsonSchema } from '../../src/singer/messages.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

interface ListedSetting {
  name: string;
  kind?: string;
  sensitive: boolean;
}

/** Reads `- name:` / `kind:` / `sensitive:` lines of a generated settings list (our own fixed layout). */
function listedSettings(section: string): ListedSetting[] {
  const settings: ListedSetting[] = [];
  for (const line of section.split('\n')) {
    const name = /^\s*- name: (\S+)\s*$/.exec(line);
    const current = settings[settings.length - 1];
    if (name?.[1]) settings.push({ name: name[1], sensitive: false });
    else if (current && /^\s+kind: (\S+)\s*$/.test(line)) current.kind = /kind: (\S+)/.exec(line)?.[1];
    else if (current && /^\s+sensitive: (true|false)\s*$/.test(line)) current.sensitive = line.trim() === 'sensitive: true';
  }
  return settings;
}

function expectedSettings(schema: JsonSchema): ListedSetting[] {
  return Object.entries(schema.properties ?? {}).map(([name, prop]) => ({ name, kind: meltanoKind(prop), sensitive: prop.secret === true }));
}

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

const CASES = [
  { file: 'meltano/tap-mixpanel.yml', section: 'settings', schema: 'tap-mixpanel.config.json', indent: 0 },
  { file: 'meltano/target-mailchimp.yml', section: 'settings', schema: 'target-mailchimp.config.json', indent: 0 },
  { file: 'meltano/meltano.yml', section: 'tap-mixpanel', schema: 'tap-mixpanel.config.json', indent: 4 },
  { file: 'meltano/meltano.yml', section: 'target-mailchimp', schema: 'target-mailchimp.config.json', indent: 4 },
];

describe('Meltano plugin definitions', () => {
  it.each(CASES)('$file ($section) lists exactly the settings of $schema, with kinds and sensitive flags', ({ file, section, schema }) => {
    const text = yamlSection(read(file), section);
    expect(text).toBeDefined();
    const listed = listedSettings(text ?? '');
    const expected = expectedSettings(loadSchema(schema));
    // Both directions: nothing missing, nothing extra, same kind, secret <-> sensitive.
    expect(listed.map((s) => s.name).sort()).toEqual(expected.map((s) => s.name).sort());
    expect([...listed].sort((a, b) => a.name.localeCompare(b.name))).toEqual([...expected].sort((a, b) => a.name.localeCompare(b.name)));
  });

  it.each(CASES)('$file ($section) is what npm run plugin-files renders from $schema', ({ file, section, schema, indent }) => {
    expect(yamlSection(read(file), section)).toBe(renderMeltanoSettings(loadSchema(schema), indent));
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

  it('db_conn uses only settings the tap knows (it becomes config.json as is)', () => {
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
