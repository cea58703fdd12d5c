/**
 * The families the server sorts requests into (server.ts). Each family has its own hook chain
 * and error style; the three service families are logged in the request log and have run-time
 * settings (latency, faults), the notification sinks' HTTP families are recorded by notify/.
 */

/** The emulated services: Mixpanel's export and query APIs, and Mailchimp's Marketing API. */
export type Family = 'export' | 'query' | 'mailchimp';

/** The notification sinks' HTTP families (notify/routes.ts); their requests are kept there, not in the request log. */
export type NotifyFamily = 'twilio' | 'hooks';
export const NOTIFY_FAMILIES: readonly NotifyFamily[] = ['twilio', 'hooks'];

export function isNotifyFamily(name: string): name is NotifyFamily {
  return (NOTIFY_FAMILIES as readonly string[]).includes(name);
}

/** Every family a request can belong to. */
export type FamilyName = Family | 'admin' | NotifyFamily;
