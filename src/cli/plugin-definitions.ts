/**
 * The `settings` lists of the Meltano plugin definitions (meltano/*.yml, meltano.yml), rendered
 * from the config JSON Schemas so that they cannot drift from what the binaries accept. The rest
 * of those files is written by hand; `npm run plugin-files` rewrites the generated lists and
 * tests/unit/plugin-definitions.test.ts fails when they disagree with the schemas.
 *
 * The lists are found structurally (the YAML path of each plugin's `settings`), not by their
 * marker comments: Meltano rewrites meltano.yml (`meltano config set`, `meltano add`) and drops
 * comments. Only the list's own lines are replaced, so the rest of the file stays byte for byte
 * as it is. The YAML parser is handed in (scripts/update-plugin-files.js and the tests pass the
 * `yaml` package, a dev dependency), so the shipped code does not depend on it.
 */
import type { Document, Node as YamlNode, YAMLMap, YAMLSeq } from 'yaml';
import type { JsonSchema } from '../singer/messages.js';
import { settingsFromSchema } from './about.js';

/** Meltano setting kinds (meltano SettingKind) that the config schemas use. */
export type MeltanoKind = 'string' | 'integer' | 'boolean' | 'date_iso8601' | 'options' | 'array' | 'object';

export interface MeltanoSetting {
  name: string;
  label: string;
  kind: MeltanoKind;
  description: string;
  sensitive: boolean;
  value?: unknown;
  options?: Array<{ label: string; value: string }>;
}

/**
 * The kind a schema property maps to. Meltano has no kind for fractional numbers: `number`
 * settings are `string` (Meltano passes the value as written; the binaries read "300" and 300
 * alike). Secrets are `string` with `sensitive: true` (`kind: password` is deprecated).
 */
export function meltanoKind(prop: JsonSchema): MeltanoKind {
  const types = (Array.isArray(prop.type) ? prop.type : [prop.type]).filter((t): t is string => typeof t === 'string' && t !== 'null');
  if (types.includes('array')) return 'array';
  if (types.includes('object')) return 'object';
  if (types.includes('boolean')) return 'boolean';
  if (types.includes('integer')) return 'integer';
  if (Array.isArray(prop.enum)) return 'options';
  if (prop.format === 'date-time' || prop.format === 'date') return 'date_iso8601';
  return 'string';
}

const WORDS: Record<string, string> = { id: 'ID', ids: 'IDs', api: 'API', url: 'URL', eu: 'EU', uri: 'URI', mp: 'Mixpanel' };

/** "service_account_secret" -> "Service Account Secret"; a schema `title` wins. */
export function settingLabel(name: string, prop: JsonSchema): string {
  if (typeof prop.title === 'string' && prop.title !== '') return prop.title;
  return name
    .split('_')
    .map((w) => WORDS[w] ?? w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

/**
 * Meltano parses a `kind: array` value itself, as JSON, before the plugin sees it (env vars and
 * `meltano config set` alike): a comma-separated string fails there with "Failed to parse JSON
 * array from string", although the binaries accept one. The Meltano description says so.
 */
export function meltanoDescription(description: string, kind: MeltanoKind): string {
  if (kind !== 'array') return description;
  const withoutCommaForm = description.replace(/\s*\((?:an? )?array, or a comma-separated string\)/, '');
  return `${withoutCommaForm} In Meltano: a JSON array, e.g. ["a", "b"] (Meltano refuses comma-separated values for this setting).`;
}

export function meltanoSettings(schema: JsonSchema): MeltanoSetting[] {
  return settingsFromSchema(schema).map((s) => {
    const prop = schema.properties?.[s.name] ?? {};
    const kind = meltanoKind(prop);
    return {
      name: s.name,
      label: settingLabel(s.name, prop),
      kind,
      description: meltanoDescription(s.description, kind),
      sensitive: s.secret,
      ...(s.default !== undefined ? { value: s.default } : {}),
      ...(kind === 'options' ? { options: (prop.enum as unknown[]).map((v) => ({ label: String(v), value: String(v) })) } : {}),
    };
  });
}

/** JSON scalars and flow collections are valid YAML; JSON.stringify quotes and escapes for us. */
const yaml = (value: unknown): string => JSON.stringify(value);

/** The YAML lines of a settings list (without the `settings:` key), indented by `indent` spaces. */
export function renderMeltanoSettings(schema: JsonSchema, indent = 0): string {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  for (const s of meltanoSettings(schema)) {
    lines.push(`${pad}- name: ${s.name}`);
    lines.push(`${pad}  label: ${yaml(s.label)}`);
    lines.push(`${pad}  kind: ${s.kind}`);
    lines.push(`${pad}  sensitive: ${s.sensitive}`);
    if (s.value !== undefined) lines.push(`${pad}  value: ${yaml(s.value)}`);
    if (s.options) {
      lines.push(`${pad}  options:`);
      for (const o of s.options) lines.push(`${pad}  - label: ${yaml(o.label)}`, `${pad}    value: ${yaml(o.value)}`);
    }
    lines.push(`${pad}  description: ${yaml(s.description)}`);
  }
  return lines.join('\n');
}

const MARKER = (name: string, edge: 'start' | 'end') => `# ${name}:${edge} (generated from src/schemas by npm run plugin-files)`;

export function yamlSectionMarkers(name: string): [string, string] {
  return [MARKER(name, 'start'), MARKER(name, 'end')];
}

/** Where a generated settings list lives: the file's top level (a plugin definition) or one plugin of meltano.yml. */
export type SettingsLocation = { kind: 'definition' } | { kind: 'project'; pluginType: 'extractors' | 'loaders'; plugin: string };

/** One generated list: which file, where in it, its marker name, and the schema it comes from. */
export interface PluginSettingsFile {
  file: string;
  location: SettingsLocation;
  /** Marker name of the section (kept as comments around the list for readers). */
  section: string;
  schema: string;
}

export const PLUGIN_SETTINGS_FILES: readonly PluginSettingsFile[] = [
  { file: 'meltano/tap-mixpanel.yml', location: { kind: 'definition' }, section: 'settings', schema: 'tap-mixpanel.config.json' },
  { file: 'meltano/target-mailchimp.yml', location: { kind: 'definition' }, section: 'settings', schema: 'target-mailchimp.config.json' },
  { file: 'meltano/tap-mailchimp.yml', location: { kind: 'definition' }, section: 'settings', schema: 'tap-mailchimp.config.json' },
  { file: 'meltano/meltano.yml', location: { kind: 'project', pluginType: 'extractors', plugin: 'tap-mixpanel' }, section: 'tap-mixpanel', schema: 'tap-mixpanel.config.json' },
  { file: 'meltano/meltano.yml', location: { kind: 'project', pluginType: 'loaders', plugin: 'target-mailchimp' }, section: 'target-mailchimp', schema: 'target-mailchimp.config.json' },
];

export type ParseYaml = (text: string) => Document;

function describeLocation(location: SettingsLocation): string {
  return location.kind === 'definition' ? 'the top-level settings' : `plugins.${location.pluginType}[name=${location.plugin}].settings`;
}

function isMapNode(node: unknown): node is YAMLMap {
  return typeof node === 'object' && node !== null && Array.isArray((node as { items?: unknown }).items) && typeof (node as YAMLMap).get === 'function';
}

/** The settings sequence node at `location`; throws naming the path when it is missing or not a block list. */
export function settingsNode(doc: Document, location: SettingsLocation): YAMLSeq {
  let owner: unknown = doc.contents;
  if (location.kind === 'project') {
    const plugins = doc.getIn(['plugins', location.pluginType]) as YAMLSeq | undefined;
    owner = plugins?.items?.find((item) => isMapNode(item) && item.get('name') === location.plugin);
  }
  if (!isMapNode(owner)) throw new Error(`no ${describeLocation(location)} found`);
  const node = owner.get('settings', true) as YamlNode | undefined;
  const seq = node as YAMLSeq | undefined;
  if (!seq || !Array.isArray(seq.items) || seq.items.length === 0 || seq.flow === true || !seq.range) {
    throw new Error(`${describeLocation(location)} must be a non-empty block list ("- name: ..." lines)`);
  }
  return seq;
}

/** The settings list at `location` as data (what Meltano reads). */
export function listedSettings(text: string, location: SettingsLocation, parse: ParseYaml): unknown[] {
  const doc = parse(text);
  return (settingsNode(doc, location).toJSON() as unknown[]) ?? [];
}

/** The settings as Meltano reads them from what renderMeltanoSettings writes. */
export function expectedSettings(schema: JsonSchema): Array<Record<string, unknown>> {
  return meltanoSettings(schema).map((s) => ({
    name: s.name,
    label: s.label,
    kind: s.kind,
    sensitive: s.sensitive,
    ...(s.value !== undefined ? { value: s.value } : {}),
    ...(s.options ? { options: s.options } : {}),
    description: s.description,
  }));
}

/**
 * Replaces the settings list at `location` with the one rendered from `schema`, between marker
 * comments (added again when Meltano dropped them). Only the list's lines change.
 */
export function replaceSettingsList(text: string, file: Pick<PluginSettingsFile, 'location' | 'section'>, schema: JsonSchema, parse: ParseYaml): string {
  const markers = new Set(yamlSectionMarkers(file.section));
  // Old markers go first, wherever Meltano left them; they are written again around the list.
  const lines = text.split('\n');
  const body = lines.filter((line) => !markers.has(line.trim())).join('\n');
  const doc = parse(body);
  if (doc.errors.length > 0) throw new Error(`not valid YAML: ${doc.errors[0]?.message ?? 'parse error'}`);
  const seq = settingsNode(doc, file.location);
  const [start, valueEnd] = seq.range as [number, number, number];
  const lineStart = body.lastIndexOf('\n', start - 1) + 1;
  const indent = start - lineStart;
  if (body.slice(lineStart, start).trim() !== '') throw new Error(`${describeLocation(file.location)} must start on its own line`);
  const pad = ' '.repeat(indent);
  const [startMarker, endMarker] = yamlSectionMarkers(file.section);
  const list = `${pad}${startMarker}\n${renderMeltanoSettings(schema, indent)}\n${pad}${endMarker}`;
  // The list's range ends after its last value, with or without that line's newline.
  const rest = body.slice(valueEnd);
  const tail = body[valueEnd - 1] === '\n' ? `\n${rest}` : rest.replace(/^[^\S\n]*(?=\n|$)/, '');
  return body.slice(0, lineStart) + list + tail;
}
