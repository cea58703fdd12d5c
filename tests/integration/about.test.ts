/**
 * `--about --format markdown` of the compiled binaries: a table a reader can paste into any
 * markdown page, every row as wide as its header (types such as array|string are escaped).
 */
import { describe, expect, it } from '@jest/globals';
import { tableShapes } from '../unit/helpers/markdown-table.js';
import { runBinary } from './harness.js';

describe('--about --format markdown', () => {
  it.each(['tap-mixpanel', 'target-mailchimp'] as const)('%s: one settings table, every row with as many cells as the header', async (name) => {
    const result = await runBinary(name, ['--about', '--format', 'markdown']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    const tables = tableShapes(result.stdout);
    expect(tables).toHaveLength(1);
    const [table] = tables;
    expect(table?.header).toBe(6);
    expect(table?.rows.length).toBeGreaterThan(20);
    for (const { row, cells } of table?.rows ?? []) expect([row, cells]).toEqual([row, 6]);
    expect(result.stdout).toContain('array\\|string');
  });
});
