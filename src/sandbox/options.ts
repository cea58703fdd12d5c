/**
 * Sandbox options and their defaults. Everything the sandbox generates is a pure function of
 * the resolved options, so two sandboxes started with the same options serve the same data.
 */
import { isValidTimeZone, parseDay, ProjectCalendar } from './calendar.js';
import type { Family } from './families.js';
import { parseFaultRules, type FaultRule } from './fault-rules.js';
import { MIXPANEL_LIMITS, mergeRateLimits, type RateLimitInput, type RateLimitSettings } from './rate-limits.js';
import { resolveNotifyOptions, type NotifySandboxConfig, type NotifySandboxOptions } from './notify/store.js';

export interface SandboxOptions {
  /** Default 0: the OS chooses a free port. */
  port?: number;
  /** Default 42. */
  seed?: number;
  /** Sandbox clock start; default the real current time. The clock advances with real time from there. */
  now?: string | Date;
  /** First day with events (YYYY-MM-DD, project time zone); default today - days + 1. */
  fromDate?: string;
  /** Number of days with events, default 30. */
  days?: number;
  /** Default 200. */
  eventsPerDay?: number;
  /** Default 500. */
  profiles?: number;
  /** Engage page size, default 1000 (tests shrink it). */
  engagePageSize?: number;
  /** IANA zone, default 'UTC'. Any other zone emulates a pre-2023 project (local days, local seconds). */
  projectTimezone?: string;
  mixpanel?: {
    projectId?: number;
    apiSecret?: string;
    serviceAccountUsername?: string;
    serviceAccountSecret?: string;
  };
  mailchimp?: {
    apiKey?: string;
    listId?: string;
    /** Seeded audience size, default 60. */
    members?: number;
    /** Merge tag that is required; default 'FNAME'; null = none. */
    requiredMergeField?: string | null;
    // -- audience scale and batch operations (issue 11) --
    /** Generated members added after the seeded ones (data/generated-audience.ts), default 0. */
    audienceSize?: number;
    /** Batch operations run per second, default 1000 (POST /__admin/settings changes it at run time). */
    batchOperationsPerSecond?: number;
    /** Start with batch processing paused (batches stay pending until resumed), default false. */
    batchesPaused?: boolean;
  };
  latencyMs?: { export?: number; query?: number; mailchimp?: number };
  /**
   * Mixpanel's rate limits (rate-limits.ts): true enforces the documented ones; an object changes
   * some of them (snake_case keys, e.g. {"hour_ms": 6000}) and enforces them. Default off.
   */
  rateLimits?: boolean | RateLimitInput;
  /** Fault rules applied from the start (fault-rules.ts); POST /__admin/settings {"faults": [...]} replaces them. */
  faults?: unknown[];
  /** The notification sinks (notify/store.ts): SMTP and Twilio credentials, their fault rules. */
  notify?: NotifySandboxOptions;
}

export const SANDBOX_DEFAULTS = {
  seed: 42,
  days: 30,
  eventsPerDay: 200,
  profiles: 500,
  engagePageSize: 1000,
  projectTimezone: 'UTC',
  mixpanel: {
    projectId: 1234567,
    apiSecret: 'sandbox-project-secret',
    serviceAccountUsername: 'sandbox-sa.0a1b2c.mp-service-account',
    serviceAccountSecret: 'sandbox-sa-secret',
  },
  mailchimp: {
    apiKey: '0123456789abcdef0123456789abcdef-us6',
    listId: 'a1b2c3d4e5',
    members: 60,
    requiredMergeField: 'FNAME' as string | null,
    audienceSize: 0,
    batchOperationsPerSecond: 1000,
  },
} as const;

export interface MixpanelCredentials {
  projectId: number;
  apiSecret: string;
  serviceAccountUsername: string;
  serviceAccountSecret: string;
}

export interface MailchimpCredentials {
  apiKey: string;
  listId: string;
  /** Data center: the API key's suffix after the last '-'. */
  dc: string;
}

/** Options with every default applied and every value checked. */
export interface SandboxConfig {
  port: number;
  seed: number;
  /** Clock start (epoch ms) and whether the caller chose it. */
  startNowMs: number;
  nowGiven: boolean;
  /** First and last day with events (day numbers, see calendar.ts). */
  fromDay: number;
  toDay: number;
  days: number;
  eventsPerDay: number;
  profiles: number;
  engagePageSize: number;
  projectTimezone: string;
  mixpanel: MixpanelCredentials;
  mailchimp: MailchimpCredentials & {
    members: number;
    requiredMergeField: string | null;
    audienceSize: number;
    batchOperationsPerSecond: number;
    batchesPaused: boolean;
  };
  latencyMs: Record<Family, number>;
  rateLimits: RateLimitSettings;
  faults: FaultRule[];
  notify: NotifySandboxConfig;
}

export function resolveOptions(options: SandboxOptions = {}, realNowMs: number = Date.now()): SandboxConfig {
  const projectTimezone = options.projectTimezone ?? SANDBOX_DEFAULTS.projectTimezone;
  if (!isValidTimeZone(projectTimezone)) throw new Error(`projectTimezone: unknown time zone "${projectTimezone}"`);
  const startNowMs = options.now === undefined ? realNowMs : parseInstant(options.now);
  const days = count('days', options.days, SANDBOX_DEFAULTS.days, 1);
  const today = new ProjectCalendar(projectTimezone).dayAt(startNowMs);
  let fromDay = today - days + 1;
  if (options.fromDate !== undefined) {
    const parsed = parseDay(options.fromDate);
    if (parsed === null) throw new Error(`fromDate: expected YYYY-MM-DD, got "${options.fromDate}"`);
    fromDay = parsed;
  }
  const apiKey = options.mailchimp?.apiKey ?? SANDBOX_DEFAULTS.mailchimp.apiKey;
  return {
    port: count('port', options.port, 0, 0),
    seed: integer('seed', options.seed, SANDBOX_DEFAULTS.seed),
    startNowMs,
    nowGiven: options.now !== undefined,
    fromDay,
    toDay: fromDay + days - 1,
    days,
    eventsPerDay: count('eventsPerDay', options.eventsPerDay, SANDBOX_DEFAULTS.eventsPerDay, 0),
    profiles: count('profiles', options.profiles, SANDBOX_DEFAULTS.profiles, 0),
    engagePageSize: count('engagePageSize', options.engagePageSize, SANDBOX_DEFAULTS.engagePageSize, 1),
    projectTimezone,
    mixpanel: {
      projectId: count('mixpanel.projectId', options.mixpanel?.projectId, SANDBOX_DEFAULTS.mixpanel.projectId, 1),
      apiSecret: options.mixpanel?.apiSecret ?? SANDBOX_DEFAULTS.mixpanel.apiSecret,
      serviceAccountUsername: options.mixpanel?.serviceAccountUsername ?? SANDBOX_DEFAULTS.mixpanel.serviceAccountUsername,
      serviceAccountSecret: options.mixpanel?.serviceAccountSecret ?? SANDBOX_DEFAULTS.mixpanel.serviceAccountSecret,
    },
    mailchimp: {
      apiKey,
      dc: apiKey.includes('-') ? apiKey.slice(apiKey.lastIndexOf('-') + 1) : 'us1',
      listId: options.mailchimp?.listId ?? SANDBOX_DEFAULTS.mailchimp.listId,
      members: count('mailchimp.members', options.mailchimp?.members, SANDBOX_DEFAULTS.mailchimp.members, 0),
      requiredMergeField:
        options.mailchimp?.requiredMergeField === undefined
          ? SANDBOX_DEFAULTS.mailchimp.requiredMergeField
          : options.mailchimp.requiredMergeField,
      audienceSize: count('mailchimp.audienceSize', options.mailchimp?.audienceSize, SANDBOX_DEFAULTS.mailchimp.audienceSize, 0),
      batchOperationsPerSecond: positiveRate('mailchimp.batchOperationsPerSecond', options.mailchimp?.batchOperationsPerSecond, SANDBOX_DEFAULTS.mailchimp.batchOperationsPerSecond),
      batchesPaused: options.mailchimp?.batchesPaused === true,
    },
    latencyMs: {
      export: count('latencyMs.export', options.latencyMs?.export, 0, 0),
      query: count('latencyMs.query', options.latencyMs?.query, 0, 0),
      mailchimp: count('latencyMs.mailchimp', options.latencyMs?.mailchimp, 0, 0),
    },
    rateLimits: mergeRateLimits(MIXPANEL_LIMITS, options.rateLimits, 'rateLimits'),
    faults: options.faults === undefined ? [] : parseFaultRules(options.faults, 'faults'),
    notify: resolveNotifyOptions(options.notify),
  };
}

export function parseInstant(value: string | Date): number {
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`now: not a valid date-time: "${String(value)}"`);
  return ms;
}

function integer(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value)) throw new Error(`${name}: expected an integer, got ${value}`);
  return value;
}

/** Operations per second: a finite number > 0 (pausing is its own switch). */
export function positiveRate(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new Error(`${name}: expected a number > 0, got ${String(value)}`);
  return value;
}

function count(name: string, value: number | undefined, fallback: number, min: number): number {
  const n = integer(name, value, fallback);
  if (n < min) throw new Error(`${name}: expected an integer >= ${min}, got ${n}`);
  return n;
}

