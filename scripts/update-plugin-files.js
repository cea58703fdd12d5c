// Regenerates the settings lists of the Meltano plugin definitions from the JSON Schemas
// (run after `npm run build`); tests/unit/plugin-definitions.test.ts checks them. The lists are
// found by their YAML path, so this works on a meltano.yml that Meltano rewrote without our
// marker comments; only the lists' lines change.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { PLUGIN_SETTINGS_FILES, replaceSettingsList } from '../dist/cli/plugin-definitions.js';

const schema = (name) => JSON.parse(readFileSync(`src/schemas/${name}`, 'utf8'));

for (const entry of PLUGIN_SETTINGS_FILES) {
  const before = readFileSync(entry.file, 'utf8');
  let after;
  try {
    after = replaceSettingsList(before, entry, schema(entry.schema), (text) => parseDocument(text));
  } catch (err) {
    console.error(`${entry.file}: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
  if (after !== before) {
    writeFileSync(entry.file, after);
    console.log(`${entry.file}: settings from ${entry.schema} updated`);
  }
}
