/** Plain-text tables for the bench output. */
export function printTable(title: string, header: string[], rows: string[][]): void {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

export function fixed(n: number | null, digits = 1): string {
  return n === null || !Number.isFinite(n) ? 'n/a' : n.toFixed(digits);
}

export function thousands(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** The same table as GitHub markdown (for an issue's closing note): a bold title, the caption in italics. */
export function printMarkdownTable(title: string, caption: string, header: string[], rows: string[][]): void {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  console.log(`\n**${title}**${caption ? `\n\n_${caption}_` : ''}\n`);
  console.log(`| ${header.map(cell).join(' | ')} |`);
  // Right-aligned where every cell is a figure (1,234 / 5.6 s / 2.5 min / n/a).
  const figure = /^(n\/a|[\d,.]+( s| min)?)$/;
  console.log(`|${header.map((_, i) => (rows.length > 0 && rows.every((r) => figure.test(r[i] ?? '')) ? '---:' : '---')).join('|')}|`);
  for (const row of rows) console.log(`| ${row.map(cell).join(' | ')} |`);
}
