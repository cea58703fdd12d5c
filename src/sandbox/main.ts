/** Entry point of `mixpanel-mailchimp-sandbox` (bin/mixpanel-mailchimp-sandbox.js). */
import { runSandboxCli } from './cli.js';

await runSandboxCli(process.argv.slice(2));
