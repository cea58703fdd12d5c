/**
 * A tap's input files and stream choice (--catalog, --state, --select), read the same way by
 * every tap: a missing file is a usage error naming it, a catalog that selects nothing the tap
 * has gets a warning, an empty state file means "no bookmarks yet".
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors/index.js';
import type { Logger } from '../log/logger.js';
import { catalogSelectionReport, parseCatalogText, type Catalog } from '../singer/catalog.js';
import { parseStateText, type SingerState } from '../singer/state.js';

export function readTextFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `${what} file ${path} does not exist` : `cannot read ${what} file ${path} (${code ?? String(err)})`);
  }
}

/** The catalog, with a warning when it selects streams the tap does not have, or none it has. */
export function readTapCatalog(path: string, streamNames: readonly string[], log: Logger): Catalog {
  const catalog = parseCatalogText(readTextFile(path, 'catalog'), path);
  const { unknownSelected, knownSelected } = catalogSelectionReport(catalog, streamNames);
  if (unknownSelected.length > 0) {
    log.warn(`catalog ${path} selects streams this tap does not have, which are ignored: ${unknownSelected.join(', ')} (its streams: ${streamNames.join(', ')})`);
  }
  if (knownSelected.length === 0) {
    log.warn(`catalog ${path} selects none of this tap's streams (${streamNames.join(', ')}): nothing will be synced; set "selected": true in a stream's metadata (breadcrumb [])`);
  }
  return catalog;
}

/** The state to resume from; undefined (with a warning) when the file holds none. `check` refuses bookmarks the tap cannot use. */
export function readTapState(path: string, log: Logger, check: (state: SingerState, source: string) => void, fresh: string): SingerState | undefined {
  const content = parseStateText(readTextFile(path, 'state'), path);
  if (content.empty) {
    log.warn(`state file ${path} ${content.reason}: no bookmarks, ${fresh}`);
    return undefined;
  }
  check(content.state, path);
  return content.state;
}

/** The stream names of --select (comma-separated, repeatable); undefined when not given. */
export function selectedStreamNames(values: readonly string[], known: readonly string[]): string[] | undefined {
  if (values.length === 0) return undefined;
  const names = values.flatMap((v) => v.split(',')).map((n) => n.trim()).filter((n) => n !== '');
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError(`--select: ${unknown.length > 0 ? `unknown stream ${unknown.join(', ')}` : 'no stream named'} (streams: ${known.join(', ')})`);
  }
  return names;
}

export function collectOption(value: string, previous: string[]): string[] {
  return [...previous, value];
}
