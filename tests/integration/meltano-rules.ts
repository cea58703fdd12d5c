/**
 * What Meltano does with the example project (meltano/meltano.yml) before it runs a plugin, for
 * the tests that run the project as Meltano would: the project file, the `select` rules applied
 * to the discovered catalog, and a plugin's `config` with `$VAR` / `${VAR}` expanded.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { Catalog } from '../../src/singer/catalog.js';

export interface ExtractorEntry {
  name: string;
  select?: string[];
  metadata?: Record<string, Record<string, unknown>>;
  config?: Record<string, unknown>;
}

export interface LoaderEntry {
  name: string;
  config?: Record<string, unknown>;
}

export const project = parseDocument(readFileSync(new URL('../../meltano/meltano.yml', import.meta.url), 'utf8')).toJS() as {
  plugins: { extractors: ExtractorEntry[]; loaders: LoaderEntry[] };
};

export const extractor = project.plugins.extractors.find((p) => p.name === 'tap-mixpanel') as ExtractorEntry;
export const loader = project.plugins.loaders.find((p) => p.name === 'target-mailchimp') as LoaderEntry;

/** Meltano's `select` patterns: `stream.property`, `*` as a wildcard (the only form the example uses). */
function matches(patterns: string[], stream: string, property: string): boolean {
  return patterns.some((pattern) => {
    const [s = '', p = ''] = pattern.split('.');
    const glob = (g: string, v: string) => new RegExp(`^${g.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(v);
    return glob(s, stream) && glob(p, property);
  });
}

/** What Meltano does to the discovered catalog before passing it with --catalog. */
export function applyProjectRules(catalog: Catalog, entry: ExtractorEntry): Catalog {
  const select = entry.select ?? ['*.*'];
  for (const stream of catalog.streams) {
    for (const m of stream.metadata ?? []) {
      const property = m.breadcrumb.length === 0 ? undefined : m.breadcrumb[m.breadcrumb.length - 1];
      m.metadata.selected = property === undefined ? select.some((p) => matches([p], stream.tap_stream_id, '*') || p.startsWith(`${stream.tap_stream_id}.`)) : matches(select, stream.tap_stream_id, property);
      if (property === undefined) Object.assign(m.metadata, entry.metadata?.[stream.tap_stream_id] ?? {});
    }
  }
  return catalog;
}

/** A plugin's `config` with environment variables expanded in string values, as Meltano does. */
export function expandConfig(config: Record<string, unknown>, env: Record<string, string>): Record<string, unknown> {
  const expand = (value: unknown): unknown =>
    typeof value === 'string' ? value.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => env[braced ?? bare ?? ''] ?? whole) : value;
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key, expand(value)]));
}
