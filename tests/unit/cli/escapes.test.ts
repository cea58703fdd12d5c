/**
 * The exit point's watch for errors that escape every await (src/cli/escapes.ts), on an emitter
 * standing in for the process: what a command's run does with them, and what happens to those
 * that escape once the run has ended another way.
 */
import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { EscapedError, EscapeWatch } from '../../../src/cli/escapes.js';
import { HttpError } from '../../../src/http/errors.js';

/** Stands in for the process: an emitter with the two events the watch listens to. */
function fakeProcess(): EventEmitter & Pick<NodeJS.Process, 'on' | 'off'> {
  return new EventEmitter() as EventEmitter & Pick<NodeJS.Process, 'on' | 'off'>;
}

const patchFailed = () => new HttpError({ method: 'PATCH', url: 'http://127.0.0.1/3.0/lists/L1/members/h', status: 500 });

describe('EscapeWatch', () => {
  it('an unhandled rejection during the work ends it as an internal error naming the original', async () => {
    const source = fakeProcess();
    const later: EscapedError[] = [];
    const watch = new EscapeWatch(source, (err) => later.push(err));
    const original = patchFailed();
    const work = new Promise<void>(() => undefined);
    const during = watch.during(work);
    source.emit('unhandledRejection', original);
    const err = await during.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EscapedError);
    expect(err).toMatchObject({ origin: 'unhandledRejection', original, message: `a promise failed with nobody waiting for it: ${original.message}` });
    // Not an AppError: the exit point reports it as an internal error (exit 5), not as the HttpError's kind (exit 4).
    expect((err as EscapedError).cause).toBe(original);
    expect((err as EscapedError).stack).toContain(original.stack);
    expect(later).toEqual([]);
  });

  it('an uncaught exception during the work ends it the same way', async () => {
    const source = fakeProcess();
    const watch = new EscapeWatch(source, () => undefined);
    const during = watch.during(new Promise<void>(() => undefined));
    source.emit('uncaughtException', new TypeError('x is not a function'));
    await expect(during).rejects.toMatchObject({ origin: 'uncaughtException', message: 'an uncaught exception: x is not a function' });
  });

  it('work that ends first settles as it did; an error escaping afterwards only reaches onLater', async () => {
    const source = fakeProcess();
    const later: EscapedError[] = [];
    const watch = new EscapeWatch(source, (err) => later.push(err));
    await expect(watch.during(Promise.resolve(7))).resolves.toBe(7);
    await expect(watch.during(Promise.reject(new Error('the run failed')))).rejects.toThrow('the run failed');
    source.emit('unhandledRejection', 'a string reason');
    expect(later.map((e) => e.message)).toEqual(['a promise failed with nobody waiting for it: a string reason']);
  });

  it('stop() removes both listeners', () => {
    const source = fakeProcess();
    const watch = new EscapeWatch(source, () => undefined);
    expect([source.listenerCount('unhandledRejection'), source.listenerCount('uncaughtException')]).toEqual([1, 1]);
    watch.stop();
    expect([source.listenerCount('unhandledRejection'), source.listenerCount('uncaughtException')]).toEqual([0, 0]);
  });
});
