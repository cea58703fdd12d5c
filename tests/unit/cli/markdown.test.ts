/**
 * Markdown tables from the config schemas (--about --format markdown, and the README's generated
 * tables): a `|` in a cell (types such as array|string, a description) must not split it.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { renderAbout } from '../../../src/cli/about.js';
import { markdownCell, markdownRow } from '../../../src/cli/markdown.js';
import { settingsTable } from '../../../src/cli/settings-table.js';
import { loadSchema } from '../../../src/schemas/index.js';
import { tableCells, tableShapes } from '../helpers/markdown-table.js';

describe('markdown cells', () => {
  it.each([
    ['array|string', 'array\\|string'],
    ['`a|b` and c | d', '`a\\|b` and c \\| d'],
    ['two\nlines\r\nhere', 'two lines here'],
    ['plain', 'plain'],
  ])('%j -> %j', (text, cell) => {
    expect(markdownCell(text)).toBe(cell);
  });

  it('a row keeps its cell count whatever the cells hold', () => {
    expect(tableCells(markdownRow(['`x`', 'array|string', '', 'a | b | c']))).toHaveLength(4);
  });
});

describe.each([
  ['tap-mixpanel', 'tap-mixpanel.config.json'],
  ['target-mailchimp', 'target-mailchimp.config.json'],
])('%s settings as markdown', (name, schemaFile) => {
  const schema = loadSchema(schemaFile);

  it('--about --format markdown: every row has as many cells as the header, and array|string stays one cell', () => {
    const text = renderAbout({ name, description: 'd', version: '0.0.0', capabilities: ['about'], schema }, 'markdown');
    const [table, ...others] = tableShapes(text);
    expect(others).toEqual([]);
    expect(table?.header).toBe(6);
    expect(table?.rows.length).toBe(Object.keys(schema.properties ?? {}).length);
    for (const { row, cells } of table?.rows ?? []) expect([row, cells]).toEqual([row, 6]);
    expect(text).toMatch(/\| array\\\|string \|/);
  });

  it("the README's table: every row has as many cells as the header", () => {
    const [table] = tableShapes(settingsTable(schema));
    expect(table?.header).toBe(5);
    for (const { row, cells } of table?.rows ?? []) expect([row, cells]).toEqual([row, 5]);
  });
});

describe('the tables of the docs', () => {
  it.each(['README.md', 'docs/recipes.md', 'docs/cohort-sweeps.md', 'src/sandbox/README.md'])('%s: every row has as many cells as its header', (file) => {
    const text = readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');
    const tables = tableShapes(text);
    expect(tables.length).toBeGreaterThan(0);
    for (const table of tables) for (const { row, cells } of table.rows) expect([row, cells]).toEqual([row, table.header]);
  });
});
