import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { EXIT_CODES, SIGNAL_EXIT_CODES } from '../../src/cli/exit-codes.js';
import { sectionMarkers, settingsTable } from '../../src/cli/settings-table.js';
import { loadSchema } from '../../src/schemas/index.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function section(name: string): string {
  const [start, end] = sectionMarkers(name);
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  expect(from).toBeGreaterThanOrEqual(0);
  return readme.slice(from + start.length, to).trim();
}

describe('README configuration reference', () => {
  it.each([
    ['tap-config', 'tap-mixpanel.config.json'],
    ['target-config', 'target-mailchimp.config.json'],
    ['tap-mailchimp-config', 'tap-mailchimp.config.json'],
  ])('%s matches %s (run `npm run readme` after changing a schema)', (name, schema) => {
    expect(section(name)).toBe(settingsTable(loadSchema(schema)));
  });

  it('shows the two commands first', () => {
    const demo = readme.indexOf('make demo');
    const test = readme.indexOf('make test');
    expect(demo).toBeGreaterThan(0);
    expect(test).toBeGreaterThan(0);
    expect(Math.max(demo, test)).toBeLessThan(readme.indexOf('## Quick start'));
  });
});

describe('README exit codes', () => {
  it('lists every code the binaries exit with, the second-signal codes included, and no other', () => {
    const at = readme.indexOf('## Exit codes');
    expect(at).toBeGreaterThan(0);
    const table = readme.slice(at, readme.indexOf('\n## ', at + 1));
    const listed = [...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    const codes = [...Object.values(EXIT_CODES), ...Object.values(SIGNAL_EXIT_CODES)];
    expect(listed.sort((a, b) => a - b)).toEqual([...new Set(codes)].sort((a, b) => a - b));
  });
});
