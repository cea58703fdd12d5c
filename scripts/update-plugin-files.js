// Regenerates the settings lists of the Meltano plugin definitions from the JSON Schemas
// (run after `npm run build`); tests/unit/plugin-definitions.test.ts checks them.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderMeltanoSettings, replaceYamlSection } from '../dist/cli/plugin-definitions.js';

const schema = (name) => JSON.parse(readFileSync(`src/schemas/${name}`, 'utf8'));
const tap = schema('tap-mixpanel.config.json');
const target = schema('target-mailchimp.config.json');

const update = (path, sections) => {
  let text = readFileSync(path, 'utf8');
  for (const [name, content] of sections) text = replaceYamlSection(text, name, content);
  writeFileSync(path, text);
};

update('meltano/tap-mixpanel.yml', [['settings', renderMeltanoSettings(tap)]]);
update('meltano/target-mailchimp.yml', [['settings', renderMeltanoSettings(target)]]);
update('meltano/meltano.yml', [
  ['tap-mixpanel', renderMeltanoSettings(tap, 4)],
  ['target-mailchimp', renderMeltanoSettings(target, 4)],
]);
