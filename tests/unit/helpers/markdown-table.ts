/** Markdown tables as GitHub reads them, for tests that check a generated table's shape. */

/** The cells of a table row as GitHub reads them: split at every `|` that no backslash escapes. */
export function tableCells(row: string): string[] {
  return row.trim().replace(/^\|/, '').replace(/(?<!\\)\|$/, '').split(/(?<!\\)\|/);
}

/** Every table in a markdown text: its header's cell count and each row's, by row. */
export function tableShapes(markdown: string): Array<{ header: number; rows: Array<{ row: string; cells: number }> }> {
  const tables: Array<{ header: number; rows: Array<{ row: string; cells: number }> }> = [];
  const lines = markdown.split('\n');
  lines.forEach((line, i) => {
    if (!/^\|(\s*:?-+:?\s*\|)+\s*$/.test(line) || i === 0) return;
    const rows: Array<{ row: string; cells: number }> = [];
    for (let j = i + 1; j < lines.length && (lines[j] ?? '').startsWith('|'); j++) rows.push({ row: lines[j] ?? '', cells: tableCells(lines[j] ?? '').length });
    tables.push({ header: tableCells(lines[i - 1] ?? '').length, rows });
  });
  return tables;
}
