/**
 * The JSON Schemas in this folder are plain .json files (readable by other tools, listed in the
 * README and the Meltano definitions). The build copies them to dist/schemas, beside this module.
 */
import { readFileSync } from 'node:fs';
import type { JsonSchema } from '../singer/messages.js';

const cache = new Map<string, JsonSchema>();

/** Loads a schema by its path relative to this folder, e.g. "tap-mixpanel.config.json". */
export function loadSchema(relativePath: string): JsonSchema {
  let schema = cache.get(relativePath);
  if (!schema) {
    schema = JSON.parse(readFileSync(new URL(`./${relativePath}`, import.meta.url), 'utf8')) as JsonSchema;
    cache.set(relativePath, schema);
  }
  // Callers may extend what they get (discovery adds properties): hand out a copy.
  return structuredClone(schema);
}
