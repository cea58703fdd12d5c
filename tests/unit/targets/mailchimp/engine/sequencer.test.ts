/**
 * The state sequencer's rule as a table: a script of events (units opened, states read, units
 * finishing or failing, holds) and the states printed after each step.
 */
import { describe, expect, it } from '@jest/globals';
import { StateSequencer } from '../../../../../src/targets/mailchimp/engine/sequencer.js';

/**
 * Steps: "open" (the next unit, numbered from 1), "S:x" (state x read), "ok:n" (unit n finished),
 * "fail:n", "hold", "release". Each step is followed by a call of due(); the result lists what it
 * printed, in order.
 */
function play(steps: string[]): string[] {
  const seq = new StateSequencer();
  const printed: string[] = [];
  for (const step of steps) {
    const [verb, arg] = step.split(':') as [string, string | undefined];
    if (verb === 'open') seq.open();
    else if (verb === 'S') seq.state(arg as string);
    else if (verb === 'ok') seq.finish(Number(arg));
    else if (verb === 'fail') seq.fail(Number(arg));
    else if (verb === 'hold') seq.hold();
    else if (verb === 'release') seq.release();
    else throw new Error(`unknown step ${step}`);
    const due = seq.due();
    if (due !== undefined) printed.push(due);
  }
  return printed;
}

describe('StateSequencer: which states are printed, and when', () => {
  it.each<[string, string[], string[]]>([
    ['a state before any unit goes out at once', ['S:a'], ['a']],
    ['a state waits for the unit still filling before it', ['open', 'S:a'], []],
    ['... and goes out when that unit finishes', ['open', 'S:a', 'ok:1'], ['a']],
    ['a state between every pair of units', ['open', 'S:a', 'open', 'S:b', 'ok:1', 'ok:2'], ['a', 'b']],
    ['units finishing out of order: the later state waits for the earlier unit', ['open', 'S:a', 'open', 'S:b', 'ok:2', 'ok:1'], ['b']],
    ['several states due at once: only the latest is printed', ['open', 'S:a', 'S:b', 'S:c', 'ok:1'], ['c']],
    ['a state does not wait for units opened after it', ['open', 'S:a', 'open', 'ok:1'], ['a']],
    ['a failed unit: no state after it, ever', ['open', 'S:a', 'open', 'S:b', 'ok:1', 'fail:2', 'open', 'S:c', 'ok:3'], ['a']],
    ['a failed unit blocks the states after it even when later units finish first', ['open', 'open', 'S:b', 'ok:2', 'fail:1', 'ok:1'], []],
    ['a state before a failed unit still goes out', ['S:a', 'open', 'fail:1', 'S:b'], ['a']],
    ['a dropped unit (never finished) keeps every later state back', ['open', 'S:a', 'open', 'S:b', 'ok:1'], ['a']],
    ['a hold keeps even due states back until it lifts', ['hold', 'S:a', 'open', 'S:b', 'ok:1', 'release'], ['b']],
    ['holds count', ['hold', 'hold', 'S:a', 'release', 'release'], ['a']],
    ['finishing a unit twice, or one never opened, changes nothing', ['open', 'S:a', 'ok:2', 'ok:1', 'ok:1', 'open', 'S:b'], ['a']],
  ])('%s', (_case, steps, printed) => {
    expect(play(steps)).toEqual(printed);
  });

  it('counts what waits, and says whether a unit failed', () => {
    const seq = new StateSequencer();
    const unit = seq.open();
    seq.state('a');
    expect(seq.pending).toBe(1);
    expect(seq.failed).toBe(false);
    seq.fail(unit);
    expect(seq.failed).toBe(true);
    expect(seq.due()).toBeUndefined();
    expect(seq.pending).toBe(1);
  });

  it('a signal: the run stops reading, finishes the units in flight, and prints the state that covers them', () => {
    // After SIGTERM nothing more is read; the units already started finish, the state after them goes out.
    expect(play(['open', 'S:a', 'open', 'S:b', 'ok:2', 'ok:1'])).toEqual(['b']);
  });
});
