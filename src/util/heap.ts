/**
 * Keeps V8's heap near what the process holds. By default V8 lets the old generation grow to
 * several times its live data before a full collection (measured: a target holding ~150 MB of
 * live data peaked at 1.3 GB on a 24 GB machine, mostly garbage not yet collected). A loader that
 * promises to stay within a memory budget for million-member audiences asks V8 instead to let the
 * heap grow at most `percent` over what the last full collection kept. The price is more frequent
 * major collections, which a target that waits on Mailchimp far more than it computes can afford.
 * A growing factor given by the user (NODE_OPTIONS or a node flag) wins.
 */
import { setFlagsFromString } from 'node:v8';

export function keepHeapNearLiveSize(percent = 10): void {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) => arg.includes('heap-growing-percent') || arg.includes('heap_growing_percent'));
  if (!given) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
