/**
 * The tap-mailchimp blocks of README.md and docs/recipes.md, run by tests/docs/tap-mailchimp.test.ts;
 * readme.test.ts and recipes.test.ts list them as run elsewhere (their check that every block
 * running a binary is run or excluded covers these too).
 */
const QUICK = 'README.md > Quick start: tap-mailchimp';
const RECIPE = 'docs/recipes.md > Mailchimp unsubscribes and consent changes into the warehouse';

export const TAP_MAILCHIMP_README = {
  setup: `${QUICK} [0]`,
  discover: `${QUICK} [1]`,
  run: `${QUICK} [2]`,
} as const;

export const TAP_MAILCHIMP_RECIPE = {
  catalog: `${RECIPE} [0]`,
  script: `${RECIPE} [1]`,
  cron: `${RECIPE} [2]`,
} as const;

const REASON = 'run by tests/docs/tap-mailchimp.test.ts';

/** For the EXCLUDED lists of readme.test.ts (README blocks) and recipes.test.ts (recipe blocks). */
export const README_BLOCKS_RUN_ELSEWHERE: Record<string, string> = Object.fromEntries(Object.values(TAP_MAILCHIMP_README).map((id) => [id, REASON]));
export const RECIPE_BLOCKS_RUN_ELSEWHERE: Record<string, string> = Object.fromEntries(Object.values(TAP_MAILCHIMP_RECIPE).map((id) => [id, REASON]));
