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
  const options = [...process.execArgv, process.env.NODE_OPTIONS ?? ''];
  const given = (flag: string) => options.some((arg) => arg.includes(flag) || arg.includes(flag.replace(/-/g, '_')));
  if (!given('heap-growing-percent')) setFlagsFromString(`--heap-growing-percent=${percent}`);
  // The young generation: V8 doubles it under a high allocation rate, up to 2 x 16 MB, and keeps
  // it. A loader allocates fast (a members page, a batch's answers) but keeps little of it; at its
  // first size (2 MB) the garbage is collected sooner, for a few more short collections. The flag
  // is read when V8 would grow the space, so it works set at run time (--max-semi-space-size does not).
  if (!given('semi-space') && !given('max-heap-size')) setFlagsFromString('--semi-space-growth-factor=1');
}
