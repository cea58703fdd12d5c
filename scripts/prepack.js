// Runs before `npm pack` / `npm publish`: the package ships the compiled code (dist/), which
// `npm run build` makes; refuse to pack a tarball that would install broken commands.
import { existsSync } from 'node:fs';

const required = ['dist/taps/mixpanel/main.js', 'dist/taps/mailchimp/main.js', 'dist/schemas/tap-mailchimp.config.json', 'dist/targets/mailchimp/main.js', 'dist/schemas/tap-mixpanel.config.json', 'dist/schemas/target-mailchimp.config.json'];
const missing = required.filter((path) => !existsSync(path));
if (missing.length > 0) {
  console.error(`prepack: ${missing.join(', ')} missing: run \`npm run build\` first`);
  process.exit(1);
}
