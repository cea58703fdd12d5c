/**
 * cohort_registry_file: which tag each cohort had in the last run, so that a cohort renamed in
 * Mixpanel moves its tag (renamed in place in Mailchimp) and a deleted cohort is recognised.
 * Written atomically and readable by its owner only, like the other files of a run; it holds
 * cohort ids and tag names, no addresses.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, InputError } from '../../../errors/index.js';
import { stripBom } from '../../../singer/json-file.js';
import { writePrivateFile } from '../reports/files.js';

export interface CohortEntry {
  /** The tag the cohort's members hold. */
  tag: string;
  /** The cohort's name when the tag was last written. */
  name: string | null;
  /** When the cohort was last seen in Mixpanel. */
  seen_at: string;
}

interface RegistryDocument {
  version: 1;
  list_id: string;
  cohorts: Record<string, CohortEntry>;
}

export class CohortRegistry {
  private readonly entries = new Map<number, CohortEntry>();
  private changed = false;

  constructor(
    private readonly path: string | undefined,
    private readonly listId: string,
  ) {
    if (!path) return;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new ConfigError(`cannot read cohort_registry_file ${path}: ${(err as Error).message}`);
    }
    let doc: RegistryDocument;
    try {
      doc = JSON.parse(stripBom(text)) as RegistryDocument;
    } catch {
      throw new InputError(`cohort_registry_file ${path} is not valid JSON; delete it to start afresh (renamed cohorts will then get a new tag)`);
    }
    // A registry of another audience says nothing about this one's tags.
    if (doc.list_id !== undefined && doc.list_id !== listId) {
      throw new ConfigError(`cohort_registry_file ${path} belongs to audience ${doc.list_id}, not ${listId}: give each audience its own file`);
    }
    for (const [id, entry] of Object.entries(doc.cohorts ?? {})) {
      if (entry && typeof entry.tag === 'string') this.entries.set(Number(id), entry);
    }
  }

  get enabled(): boolean {
    return this.path !== undefined;
  }

  get(id: number): CohortEntry | undefined {
    return this.entries.get(id);
  }

  set(id: number, entry: CohortEntry): void {
    const old = this.entries.get(id);
    if (old && old.tag === entry.tag && old.name === entry.name && old.seen_at === entry.seen_at) return;
    this.entries.set(id, entry);
    this.changed = true;
  }

  delete(id: number): void {
    if (this.entries.delete(id)) this.changed = true;
  }

  ids(): number[] {
    return [...this.entries.keys()].sort((a, b) => a - b);
  }

  save(): void {
    if (!this.path || !this.changed) return;
    const cohorts = Object.fromEntries(this.ids().map((id) => [String(id), this.entries.get(id) as CohortEntry]));
    const doc: RegistryDocument = { version: 1, list_id: this.listId, cohorts };
    writePrivateFile(this.path, JSON.stringify(doc, null, 2) + '\n');
    this.changed = false;
  }
}
