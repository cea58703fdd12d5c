/**
 * The example Meltano project's cohort job, as `meltano run tap-mixpanel target-mailchimp` would
 * run it against the sandbox: the catalog from --discover with the project's `select` (engage and
 * both cohort streams), the loader's `config` from meltano.yml (cohort_tags, cohort_registry_file
 * under $MELTANO_PROJECT_ROOT, expanded as Meltano does) plus the credentials `meltano config set`
 * would add, the tap piped into the target, and the last state line the target printed kept for
 * the next run. Two runs, a membership change between them: each chosen cohort's tag is held by
 * its members only, the second run tags the entrant and untags the leaver, and the registry sits
 * in the project directory.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from '../../src/singer/catalog.js';
import type { CohortSummary } from '../../src/targets/mailchimp/cohorts/cohort-tags.js';
import { CohortWorld, TAG_PREFIX } from './cohort-world.js';
import { runBinary, runPipeline, tempDir, writeJson } from './harness.js';
import { applyProjectRules, expandConfig, extractor, loader } from './meltano-rules.js';

let world: CohortWorld;

beforeAll(async () => {
  world = await CohortWorld.start();
});

afterAll(async () => {
  await world?.close();
});

describe('the example Meltano project, cohorts as tags', () => {
  it('selects both cohort streams; the loader config keeps its cohorts as tags, run after run, with the registry in the project', async () => {
    const projectRoot = tempDir('meltano-root-');
    const sandboxConfigs = JSON.parse(readFileSync(world.tapConfig, 'utf8')) as Record<string, unknown>;
    const tapConfig = writeJson(projectRoot, 'tap.config.json', { ...sandboxConfigs, start_date: extractor.config?.start_date });
    const discovered = await runBinary('tap-mixpanel', ['--config', tapConfig, '--discover']);
    expect(discovered.code).toBe(0);
    const catalog = writeJson(projectRoot, 'tap.properties.json', applyProjectRules(JSON.parse(discovered.stdout) as Catalog, extractor));

    const configured = expandConfig(loader.config ?? {}, { MELTANO_PROJECT_ROOT: projectRoot });
    const cohortTags = configured.cohort_tags as string[];
    expect(cohortTags.length).toBeGreaterThan(0);
    expect(configured.cohort_registry_file).toBe(join(projectRoot, 'cohort-registry.json'));
    // `meltano config set target-mailchimp api_key ...` and the sandbox's URL; list_id and status_if_new from meltano.yml.
    const { path: base } = world.targetConfig({});
    const credentials = JSON.parse(readFileSync(base, 'utf8')) as Record<string, unknown>;
    const report = join(projectRoot, 'report.json');
    const targetConfig = writeJson(projectRoot, 'target.config.json', { api_key: credentials.api_key, api_base_url: credentials.api_base_url, ...configured, report_file: report });
    expect(configured.list_id).toBe(world.listId);

    const cohorts = (await world.cohorts()).filter((c) => cohortTags.includes(c.name));
    expect(cohorts.map((c) => c.name).sort()).toEqual([...cohortTags].sort());
    const emailOf = new Map((await world.profiles()).map((p) => [p.$distinct_id, typeof p.$properties.$email === 'string' ? p.$properties.$email.trim().toLowerCase() : '']));
    const entries = () => (JSON.parse(readFileSync(report, 'utf8')) as { cohorts: CohortSummary[] }).cohorts;

    const run = async (state?: string) => {
      const args = ['--config', tapConfig, '--catalog', catalog, ...(state ? ['--state', writeJson(projectRoot, 'state.json', JSON.parse(state))] : [])];
      const result = await runPipeline({ tapArgs: args, targetArgs: ['--config', targetConfig], timeoutMs: 90_000 });
      expect([result.tap.code, result.target.code]).toEqual([0, 0]);
      return result.target.stdout.trim().split('\n').pop() as string;
    };

    const firstState = await run();
    expect((JSON.parse(firstState) as { bookmarks: Record<string, unknown> }).bookmarks.engage).toBeDefined();
    for (const cohort of cohorts) {
      const members = new Set(cohort.members.map((id) => emailOf.get(id)));
      const tagged = await world.holders(`${TAG_PREFIX}${cohort.name}`);
      expect(tagged.length).toBeGreaterThan(0);
      for (const e of tagged) expect([e, members.has(e)]).toEqual([e, true]);
      expect(entries().find((c) => c.id === cohort.id)).toMatchObject({ complete: true, gained: tagged.length, lost: 0 });
    }
    const registry = JSON.parse(readFileSync(join(projectRoot, 'cohort-registry.json'), 'utf8')) as { cohorts: Record<string, { tag: string }> };
    expect(Object.fromEntries(Object.entries(registry.cohorts).map(([id, e]) => [id, e.tag]))).toEqual(Object.fromEntries(cohorts.map((c) => [String(c.id), `${TAG_PREFIX}${c.name}`])));

    // One holder of the first cohort's tag leaves it; a holder of the second's enters it.
    const [first, second] = cohorts as Array<(typeof cohorts)[number]>;
    if (!first || !second) throw new Error('the example project chooses two cohorts');
    const tag = `${TAG_PREFIX}${first.name}`;
    const before = await world.holders(tag);
    const leaver = first.members.find((id) => before.includes(emailOf.get(id) ?? '')) as string;
    const secondHolders = new Set(await world.holders(`${TAG_PREFIX}${second.name}`));
    const entrant = [...emailOf.entries()].find(([id, e]) => !first.members.includes(id) && secondHolders.has(e) && !before.includes(e));
    if (!leaver || !entrant) throw new Error('no holder to move out and no entrant to move in');
    await world.changeCohort(first.id, { add: [entrant[0]], remove: [leaver] });

    await run(firstState);
    expect(entries().find((c) => c.id === first.id)).toMatchObject({ complete: true, gained: 1, lost: 1 });
    expect(await world.holders(tag)).toEqual([...before.filter((e) => e !== emailOf.get(leaver)), entrant[1]].sort());
    expect((await world.automations()).total).toBe(0);
  });
});
