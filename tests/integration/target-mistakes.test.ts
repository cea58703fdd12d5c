/**
 * A mistake is never silent: target-mailchimp used a little wrong, the way a new user uses it,
 * fed by the real tap-mixpanel against the sandbox. Each test makes one mistake of issue 17's
 * table and checks the exit code, the message naming the setting and the fix, that nothing was
 * written to Mailchimp and that no state was printed where data would be lost.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN_DIR } from '../../src/demo/pipeline.js';
import { CohortWorld, TAG_PREFIX } from './cohort-world.js';
import { runBinary, writeJson } from './harness.js';

let world: CohortWorld;
/** The tap's output with engage, cohorts and cohort_members selected. */
let tapOutput: string;
let engageOnly: string;

beforeAll(async () => {
  world = await CohortWorld.start();
  engageOnly = (await world.tap(await world.catalog(['engage']))).stdout;
  tapOutput = (await world.tap(await world.catalog(['engage', 'cohorts', 'cohort_members']))).stdout;
});

afterAll(async () => {
  await world.close();
});

beforeEach(async () => {
  await world.reset();
  await world.clearRequests();
});

async function target(input: string, settings: Record<string, unknown>) {
  const { path, report } = world.targetConfig(settings);
  const result = await runBinary('target-mailchimp', ['--config', path], { stdin: input, timeoutMs: 90_000 });
  let parsed: { warnings?: string[] } | undefined;
  try {
    parsed = JSON.parse(readFileSync(report, 'utf8')) as { warnings?: string[] };
  } catch {
    parsed = undefined;
  }
  return { ...result, report: parsed, states: result.stdout.split('\n').filter((l) => l !== '') };
}

const engageRecords = (output: string) => output.split('\n').filter((l) => l.includes('"type":"RECORD"') && l.includes('"stream":"engage"')).length;

describe('target-mailchimp refuses a near miss of a setting', () => {
  it('"dryrun": true (meant dry_run) stops before anything is read or written', async () => {
    const run = await target(engageOnly, { dryrun: true });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('unknown key "dryrun": did you mean "dry_run"?');
    expect(run.stdout).toBe('');
    expect(await world.mailchimpWrites()).toEqual([]);
  });

  it('a key far from every setting is accepted and named in one warning', async () => {
    const run = await target(engageOnly, { dry_run: true, batch_size_rows: 100 });
    expect(run.code).toBe(0);
    expect(run.stderr.split('\n').filter((l) => l.includes('that no setting has'))).toHaveLength(1);
    expect(run.stderr).toContain('"batch_size_rows"');
  });
});

describe('"stream" that names no stream of the input', () => {
  it('"engag" fails (exit 1), prints no state, and names the stream meant and what the input had', async () => {
    const records = engageRecords(engageOnly);
    expect(records).toBeGreaterThan(10);
    const run = await target(engageOnly, { stream: 'engag' });
    expect(run.code).toBe(1);
    expect(run.states).toEqual([]);
    expect(run.stderr).toContain('"stream" names "engag", which is not in the input: did you mean "engage"?');
    expect(run.stderr).toContain(`"engage" (${records} records)`);
    expect(await world.mailchimpWrites()).toEqual([]);
  });

  it('a configured stream that comes after ignored records releases the states held meanwhile', async () => {
    // cohorts and cohort_members go by unloaded (no cohort_tags) before and after engage.
    const lines = tapOutput.split('\n').filter((l) => l !== '');
    const engage = lines.filter((l) => l.includes('"stream":"engage"'));
    const others = lines.filter((l) => !l.includes('"stream":"engage"') && !l.includes('"type":"STATE"'));
    const state = lines.filter((l) => l.includes('"type":"STATE"')).pop() as string;
    const input = [...others, state, ...engage, state].join('\n') + '\n';
    const run = await target(input, { flush_interval_seconds: 1 });
    expect(run.code).toBe(0);
    expect(run.states.length).toBeGreaterThan(0);
    expect(JSON.parse(run.states[run.states.length - 1] as string)).toEqual((JSON.parse(state) as { value: unknown }).value);
  });
});

describe('cohort_tags that names no cohort', () => {
  it('"Power user" (no such cohort) fails at the cohort list, before the members, naming the cohort meant', async () => {
    await world.createCohort('Power users', []);
    const output = (await world.tap(await world.catalog(['cohorts', 'cohort_members']))).stdout;
    const run = await target(output, { cohort_tags: ['Power user'] });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('"cohort_tags" names "Power user", which no cohort of the project is called: did you mean "Power users"?');
    // The states printed (if any) came before the cohort list: none carries a cohort_members bookmark.
    for (const s of run.states) expect(s).not.toContain('cohort_members');
    expect(await world.mailchimpWrites()).toEqual([]);
  });

  it('a cohort chosen by name and renamed in Mixpanel: the error names its id and says ids survive renames', async () => {
    const people = (await world.profiles()).filter((p) => typeof p.$properties.$email === 'string').slice(0, 3);
    await world.setAudience(people.map((p) => ({ email_address: String(p.$properties.$email) })));
    const cohort = await world.createCohort('Trial', people.map((p) => p.$distinct_id));
    const catalog = await world.catalog(['cohorts', 'cohort_members']);
    const registry = join(world.dir, 'registry-renamed.json');
    const first = await target((await world.tap(catalog)).stdout, { cohort_tags: ['Trial'], cohort_registry_file: registry });
    expect(first.code).toBe(0);
    expect((await world.holders(`${TAG_PREFIX}Trial`)).length).toBeGreaterThan(0);

    await world.changeCohort(cohort.id, { name: 'Trial (old plan)', remove: [people[0]?.$distinct_id as string] });
    await world.clearRequests();
    const second = await target((await world.tap(catalog)).stdout, { cohort_tags: ['Trial'], cohort_registry_file: registry });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`"cohort_tags" names "Trial", which cohort ${cohort.id} was called until it was renamed "Trial (old plan)" in Mixpanel: choose cohorts by id, which survive renames ("cohort_tags": [${cohort.id}])`);
    for (const s of second.states) expect(s).not.toContain('cohort_members');
    expect(await world.mailchimpWrites()).toEqual([]);
  });

  it('without a registry, the error points at the tag the old name left', async () => {
    const people = (await world.profiles()).filter((p) => typeof p.$properties.$email === 'string').slice(0, 2);
    await world.setAudience(people.map((p) => ({ email_address: String(p.$properties.$email) })));
    const cohort = await world.createCohort('Webinar May', people.map((p) => p.$distinct_id));
    const catalog = await world.catalog(['cohorts', 'cohort_members']);
    expect((await target((await world.tap(catalog)).stdout, { cohort_tags: 'Webinar May' })).code).toBe(0);
    await world.changeCohort(cohort.id, { name: 'Webinar attendees' });
    const run = await target((await world.tap(catalog)).stdout, { cohort_tags: 'Webinar May' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the audience has the tag "${TAG_PREFIX}Webinar May"`);
  });

  it('cohort_tags without the cohort streams in the input is a warning in the summary and the report', async () => {
    const run = await target(engageOnly, { cohort_tags: ['Power users'], dry_run: true });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('"cohort_tags" is set, but the input had no cohorts or cohort_members records');
    expect(run.report?.warnings).toEqual([expect.stringContaining('"cohort_tags" is set')]);
  });
});

describe('a mapped property that no SCHEMA declares', () => {
  it('merge_fields {"PLAN": "plna"} stops at the SCHEMA naming "plan", before any write or state', async () => {
    const run = await target(engageOnly, { merge_fields: { PLAN: 'plna' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('"merge_fields.PLAN" names the property "plna", which the SCHEMA of stream "engage" (line 1) does not declare: did you mean "plan"?');
    expect(run.states).toEqual([]);
    expect(await world.mailchimpWrites()).toEqual([]);
  });

  it('a property far from every declared one that no record has is a warning: the run loads, and says what was not filled', async () => {
    const run = await target(engageOnly, { merge_fields: { PLAN: 'subscription_tier' }, dry_run: true });
    expect(run.code).toBe(0);
    const warning = `"merge_fields.PLAN" names the property "subscription_tier", which no SCHEMA of the loaded streams declares and none of the ${engageRecords(engageOnly)} records had: merge field PLAN was not filled`;
    expect(run.stderr).toContain(warning);
    expect(run.report?.warnings).toEqual([warning]);
  });
});

describe('tap-mixpanel refuses a near miss of a setting', () => {
  it('"date_windows_size": 7 stops before any request, naming date_window_size', async () => {
    const tapConfig = JSON.parse(readFileSync(world.tapConfig, 'utf8')) as Record<string, unknown>;
    const path = writeJson(world.dir, 'tap-typo.json', { ...tapConfig, date_windows_size: 7 });
    const run = await runBinary('tap-mixpanel', ['--config', path, '--catalog', await world.catalog(['engage'])]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('unknown key "date_windows_size": did you mean "date_window_size"?');
    expect(run.stdout).toBe('');
  });
});

describe('target-mailchimp started in a terminal', () => {
  it('says on stderr that it reads Singer messages from stdin, and how to pipe a tap into it', async () => {
    // util-linux's script(1) gives the target a pseudo-terminal as stdin; a wrong list_id ends the run at once.
    const { path } = world.targetConfig({ list_id: 'not-a-list' });
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(join(BIN_DIR, 'target-mailchimp.js'))} --config ${JSON.stringify(path)}`;
    const output = await new Promise<string>((resolve) => {
      execFile('script', ['-qec', command, '/dev/null'], { timeout: 60_000 }, (_err, stdout) => resolve(String(stdout)));
    });
    expect(output).toContain('reading Singer messages from the terminal: pipe a tap into target-mailchimp');
    expect(output).toContain('list_id "not-a-list" is not an audience');
  });

  it('says nothing of the kind when stdin is a pipe', async () => {
    const run = await target('', { dry_run: true });
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('from the terminal');
  });
});
