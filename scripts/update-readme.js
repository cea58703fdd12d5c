// Regenerates the configuration tables in README.md from the JSON Schemas (run after `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { replaceSection, settingsTable } from '../dist/cli/settings-table.js';

const schema = (name) => JSON.parse(readFileSync(`src/schemas/${name}`, 'utf8'));
let readme = readFileSync('README.md', 'utf8');
readme = replaceSection(readme, 'tap-config', settingsTable(schema('tap-mixpanel.config.json')));
readme = replaceSection(readme, 'target-config', settingsTable(schema('target-mailchimp.config.json')));
readme = replaceSection(readme, 'tap-mailchimp-config', settingsTable(schema('tap-mailchimp.config.json')));
writeFileSync('README.md', readme);
