/**
 * Markdown table cells from free text (schema descriptions, types such as `array|string`,
 * defaults): a bare `|` ends a cell in GitHub's tables, also inside backticks, so every one is
 * escaped; a line break would end the row, so it becomes a space.
 */
export function markdownCell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/** One table row: `| a | b |`, every cell escaped. */
export function markdownRow(cells: readonly string[]): string {
  return `| ${cells.map(markdownCell).join(' | ')} |`;
}
