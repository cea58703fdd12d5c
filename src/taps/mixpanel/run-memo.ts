/**
 * Reads that several streams of one run share. `cohorts` and `cohort_members` walk the same
 * cohorts/list answer, so a loader can trust that every cohort in this run's `cohorts` records
 * was swept by this run's `cohort_members` (and the run spends one query call, not two).
 */
export class RunMemo {
  private readonly reads = new Map<string, Promise<unknown>>();

  /** The first call for `key` runs `load`; later calls get the same promise (a failure included). */
  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    let read = this.reads.get(key) as Promise<T> | undefined;
    if (read === undefined) {
      read = load();
      this.reads.set(key, read);
    }
    return read;
  }
}
