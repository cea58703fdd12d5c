/**
 * Milliseconds of a date-time text. One without a zone ("2024-06-10T12:00:00": Mixpanel's profile
 * times, a bookmark written by another tap) is UTC. Date.parse alone reads such a text in the
 * machine's time zone, so the same bookmark would mean another instant on a machine in Los
 * Angeles, and two of them could compare differently across a daylight-saving change.
 * NaN when the text is not a date-time.
 */
const ZONELESS_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

export function instantMs(text: string): number {
  return Date.parse(ZONELESS_DATE_TIME.test(text) ? `${text}Z` : text);
}
