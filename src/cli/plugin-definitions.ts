/**
 * The `settings` lists of the Meltano plugin definitions (meltano/*.yml, meltano.yml), rendered
 * from the config JSON Schemas so that they cannot drift from what the binaries accept. The rest
 * of those files is written by hand; `npm run plugin-files` rewrites the generated sections and
 * tests/unit/plugin-definitions.test.ts fails when they disagree with the schemas.
 */
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

const WORDS: Record<string, string> = { id: 'ID', api: 'API', url: 'URL', eu: 'EU', uri: 'URI', mp: 'Mixpanel' };

/** "service_account_secret" -> "Service Account Secret"; a schema `title` wins. */
export function settingLabel(name: string, prop: JsonSchema): string {
  if (typeof prop.title === 'string' && prop.title !== '') return prop.title;
  return name
    .split('_')
    .map((w) => WORDS[w] ?? w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

export function meltanoSettings(schema: JsonSchema): MeltanoSetting[] {
  return settingsFromSchema(schema).map((s) => {
    const prop = schema.properties?.[s.name] ?? {};
    const kind = meltanoKind(prop);
    return {
      name: s.name,
      label: settingLabel(s.name, prop),
      kind,
      description: s.description,
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

/** Replaces the lines between a section's marker comments (kept at their own indentation). */
export function replaceYamlSection(document: string, name: string, content: string): string {
  const [start, end] = yamlSectionMarkers(name);
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from < 0 || to < from) throw new Error(`no ${name} section markers`);
  const endLineStart = document.lastIndexOf('\n', to) + 1;
  return `${document.slice(0, from + start.length)}\n${content}\n${document.slice(endLineStart)}`;
}

/** The text between a section's marker lines (without them), or undefined when they are missing. */
export function yamlSection(document: string, name: string): string | undefined {
  const [start, end] = yamlSectionMarkers(name);
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from < 0 || to < from) return undefined;
  const endLineStart = document.lastIndexOf('\n', to) + 1;
  return document.slice(from + start.length + 1, Math.max(from + start.length + 1, endLineStart - 1));
}
