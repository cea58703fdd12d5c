/** `--about`: name, version, capabilities and settings (from the config schema, secrets marked). */
import type { JsonSchema } from '../singer/messages.js';
import { markdownRow } from './markdown.js';

export interface AboutInfo {
  name: string;
  description: string;
  version: string;
  capabilities: string[];
  schema: JsonSchema;
}

export interface SettingInfo {
  name: string;
  type: string;
  required: boolean;
  secret: boolean;
  default?: unknown;
  description: string;
}

export function settingsFromSchema(schema: JsonSchema): SettingInfo[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, prop]) => ({
    name,
    type: Array.isArray(prop.type) ? prop.type.filter((t) => t !== 'null').join('|') : String(prop.type ?? 'any'),
    required: required.has(name),
    secret: prop.secret === true,
    ...(prop.default !== undefined ? { default: prop.default } : {}),
    description: prop.description ?? '',
  }));
}

export function renderAbout(info: AboutInfo, format: 'text' | 'json' | 'markdown'): string {
  const settings = settingsFromSchema(info.schema);
  if (format === 'json') {
    return JSON.stringify({ name: info.name, description: info.description, version: info.version, capabilities: info.capabilities, settings, settings_schema: info.schema }, null, 2) + '\n';
  }
  if (format === 'markdown') {
    const rows = settings.map((s) =>
      markdownRow([`\`${s.name}\``, s.type, s.required ? 'yes' : 'no', s.secret ? 'yes' : 'no', s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``, s.description]),
    );
    return [
      `# ${info.name}`,
      '',
      info.description,
      '',
      `Version: ${info.version}`,
      '',
      '## Capabilities',
      '',
      ...info.capabilities.map((c) => `- \`${c}\``),
      '',
      '## Settings',
      '',
      '| Setting | Type | Required | Secret | Default | Description |',
      '|---|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n');
  }
  return [
    `${info.name} ${info.version}`,
    info.description,
    `capabilities: ${info.capabilities.join(', ')}`,
    'settings:',
    ...settings.map(
      (s) => `  ${s.name} (${s.type}${s.required ? ', required' : ''}${s.secret ? ', secret' : ''}${s.default === undefined ? '' : `, default ${JSON.stringify(s.default)}`}): ${s.description}`,
    ),
    '',
  ].join('\n');
}
