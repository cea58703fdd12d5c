/** The configuration reference tables in README.md, rendered from the config JSON Schemas. */
import type { JsonSchema } from '../singer/messages.js';
import { settingsFromSchema } from './about.js';
import { markdownRow } from './markdown.js';

export function settingsTable(schema: JsonSchema): string {
  const rows = settingsFromSchema(schema).map((s) => {
    const flags = [s.required ? '**required**' : '', s.secret ? 'secret' : ''].filter(Boolean).join(', ');
    const defaultText = s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``;
    return markdownRow([`\`${s.name}\``, s.type.replace(/\|/g, ' or '), flags, defaultText, s.description]);
  });
  return ['| Key | Type | | Default | Description |', '|---|---|---|---|---|', ...rows].join('\n');
}

const MARKER = (name: string, edge: 'start' | 'end') => `<!-- ${name}:${edge} (generated from src/schemas by npm run readme) -->`;

/** Replaces the text between a section's markers; throws when the markers are missing. */
export function replaceSection(document: string, name: string, content: string): string {
  const start = MARKER(name, 'start');
  const end = MARKER(name, 'end');
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README has no ${name} section markers`);
  return `${document.slice(0, from + start.length)}\n${content}\n${document.slice(to)}`;
}

export function sectionMarkers(name: string): [string, string] {
  return [MARKER(name, 'start'), MARKER(name, 'end')];
}
