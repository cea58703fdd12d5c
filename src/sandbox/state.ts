/**
 * Everything a running sandbox holds: the resolved options, the clock, the Mailchimp audience,
 * injected events, engage sessions, the request log and the run-time settings. `reset()` puts
 * back the seeded state.
 */
import { randomBytes } from 'node:crypto';
import { ProjectCalendar, formatDay } from './calendar.js';
import { SandboxClock } from './clock.js';
import type { SandboxCredentials } from './configs.js';
import { seedAudience } from './data/audience.js';
import type { EventContext, MixpanelEvent } from './data/events.js';
import { generateProfile, profileDistinctId } from './data/profiles.js';
import type { GeneratedProfile } from './data/profiles.js';
import { AutomationLog } from './mailchimp/automations.js';
import { interestCategories, marketingPermissions } from './mailchimp/group-definitions.js';
import { BatchQueue } from './mailchimp/batches.js';
import type { BatchProcessing, BatchSettings } from './mailchimp/batches.js';
import { Audience, buildGeneratedBase } from './mailchimp/store.js';
import type { GeneratedBase } from './mailchimp/store.js';
import { seedMergeFields } from './mailchimp/validation.js';
import { CohortStore } from './mixpanel/cohort-store.js';
import { EngageSessions } from './mixpanel/engage-sessions.js';
import type { Family } from './families.js';
import type { SandboxConfig } from './options.js';
import { RequestLog } from './request-log.js';
import type { FaultRule } from './fault-rules.js';
import { mergeRateLimits, RateLimiter, type RateLimitSettings } from './rate-limits.js';
import { NotifySinks } from './notify/store.js';

export interface RuntimeSettings {
  latencyMs: Record<Family, number>;
  rateLimits: RateLimitSettings;
  /** Fault rules with their uses left (fault-rules.ts). */
  faults: FaultRule[];
}

function initialBatchSettings(config: SandboxConfig): BatchSettings {
  return { operationsPerSecond: config.mailchimp.batchOperationsPerSecond, paused: config.mailchimp.batchesPaused };
}

function initialSettings(config: SandboxConfig): RuntimeSettings {
  return {
    latencyMs: { ...config.latencyMs },
    rateLimits: mergeRateLimits(config.rateLimits, undefined),
    faults: config.faults.map((rule) => ({ ...rule, ...(rule.when ? { when: { ...rule.when } } : {}) })),
  };
}

/** An event added through the admin API, with its `time` in milliseconds for time_in_ms. */
export interface InjectedEvent {
  event: MixpanelEvent;
  timeMs: number;
}

// Profiles are cached once generated, up to this population; beyond it they are regenerated on demand.
const PROFILE_CACHE_LIMIT = 200_000;
const DAY_MS = 86_400_000;

export class SandboxState {
  readonly calendar: ProjectCalendar;
  readonly clock: SandboxClock;
  readonly eventContext: EventContext;
  readonly requestLog = new RequestLog();
  /** In-flight requests per Mailchimp API key (the 10-connection cap). */
  readonly inflight = new Map<string, number>();
  /** The most Mailchimp requests of one key in flight at once since the request log was cleared. */
  peakInflight = 0;
  /** Aborted when the sandbox closes, so pending delays end at once. */
  readonly closing = new AbortController();
  settings: RuntimeSettings;
  /** Mixpanel rate-limit bookkeeping per family (rate-limits.ts). */
  readonly limiters = { export: new RateLimiter(), query: new RateLimiter() };
  /** How many times each fault kind was applied since start or reset. */
  faultsApplied: Record<string, number> = {};
  audiences = new Map<string, Audience>();
  injectedEvents = new Map<number, InjectedEvent[]>();
  readonly sessions = new EngageSessions();
  /** Properties set on generated profiles through the admin API ($set semantics), by position. */
  profileUpdates = new Map<number, Record<string, unknown>>();
  /** The project's cohorts: the seed plus admin changes (mixpanel/cohort-store.ts). */
  readonly cohorts: CohortStore;
  /** Set once the server listens. */
  url = '';
  /** What the SMTP, Twilio and webhook sinks received, and their faults (notify/). */
  readonly notify: NotifySinks;
  private readonly profileCache: Array<GeneratedProfile | undefined> = [];
  // -- Mailchimp at scale (issue 11): generated members, batches, automation triggers --
  /** Tag additions that would start automations (mailchimp/automations.ts). */
  readonly automations = new AutomationLog();
  /** The account's batch operations and their processing (mailchimp/batches.ts, batch-runner.ts). */
  readonly batches: BatchQueue;
  /** Runs them (batch-runner.ts), made by the caller: the runner works through the routes, which read this state. */
  readonly batchRunner: BatchProcessing;
  /** Signs results download URLs (like S3's pre-signed URLs). */
  readonly resultsSecret = randomBytes(32);
  /** The generated members' compact arrays, computed once and copied on reset. */
  private generatedBase: GeneratedBase | null = null;

  constructor(
    readonly config: SandboxConfig,
    batchProcessing: (state: SandboxState) => BatchProcessing,
  ) {
    this.calendar = new ProjectCalendar(config.projectTimezone);
    this.clock = new SandboxClock(config.startNowMs);
    const profileIds: string[] = [];
    for (let k = 0; k < config.profiles; k++) profileIds.push(profileDistinctId(config.seed, k));
    this.eventContext = { seed: config.seed, eventsPerDay: config.eventsPerDay, calendar: this.calendar, profileIds };
    this.settings = initialSettings(config);
    this.cohorts = new CohortStore(config.seed);
    this.notify = new NotifySinks(config.notify);
    this.batches = new BatchQueue(initialBatchSettings(config));
    this.batchRunner = batchProcessing(this);
    this.seedAudiences();
  }

  /** Back to the state at start: batches stop and their results go, as everything else. */
  async reset(): Promise<void> {
    await this.batchRunner.reset();
    this.batches.settings = initialBatchSettings(this.config);
    this.automations.clear();
    this.resetServices();
  }

  /** The rest of the start state: clock, settings, limits, injected data, log, audiences. */
  private resetServices(): void {
    this.clock.set(this.config.nowGiven ? this.config.startNowMs : Date.now());
    this.settings = initialSettings(this.config);
    this.limiters.export.clear();
    this.limiters.query.clear();
    this.faultsApplied = {};
    this.injectedEvents = new Map();
    this.sessions.clear();
    this.profileUpdates = new Map();
    this.cohorts.reset();
    this.requestLog.clear();
    this.peakInflight = 0;
    this.notify.reset();
    this.seedAudiences();
  }

  credentials(): SandboxCredentials {
    const { mailchimp, mixpanel } = this.config;
    return { mixpanel: { ...mixpanel }, mailchimp: { apiKey: mailchimp.apiKey, listId: mailchimp.listId, dc: mailchimp.dc } };
  }

  dataRange(): { fromDate: string; toDate: string } {
    return { fromDate: formatDay(this.config.fromDay), toDate: formatDay(this.config.toDay) };
  }

  /** Today in the project's time zone, by the sandbox clock. */
  today(): number {
    return this.calendar.dayAt(this.clock.now());
  }

  profile(k: number): GeneratedProfile {
    const cached = this.profileCache[k];
    const profile = cached ?? generateProfile({ seed: this.config.seed, referenceMs: this.config.startNowMs }, k);
    if (!cached && this.config.profiles <= PROFILE_CACHE_LIMIT) this.profileCache[k] = profile;
    const updates = this.profileUpdates.get(k);
    if (!updates) return profile;
    return { ...profile, record: { ...profile.record, $properties: { ...profile.record.$properties, ...updates } } };
  }

  /** Sets properties on the profile with this distinct_id, as Mixpanel's $set would; false when there is none. */
  updateProfile(distinctId: string, set: Record<string, unknown>): boolean {
    const k = this.eventContext.profileIds.indexOf(distinctId);
    if (k < 0) return false;
    this.profileUpdates.set(k, { ...this.profileUpdates.get(k), ...set });
    return true;
  }

  audience(listId: string): Audience | undefined {
    return this.audiences.get(listId);
  }

  /** Adds events as Mixpanel would have received them; `mp_processing_time_ms` defaults to now. */
  injectEvents(events: readonly MixpanelEvent[]): number {
    const now = this.clock.now();
    for (const source of events) {
      const properties = { ...source.properties };
      const rawTime = Number(properties.time);
      // Accept seconds (Mixpanel's shape) or milliseconds; keep `time` in seconds like export does.
      const timeMs = rawTime > 1e11 ? rawTime : rawTime * 1000;
      properties.time = rawTime > 1e11 ? Math.floor(rawTime / 1000) : rawTime;
      if (properties.mp_processing_time_ms === undefined) properties.mp_processing_time_ms = now;
      // `time` is local seconds for a zoned project, so its UTC day is the project day.
      const day = Math.floor(timeMs / DAY_MS);
      const list = this.injectedEvents.get(day) ?? [];
      list.push({ event: { event: source.event, properties }, timeMs });
      this.injectedEvents.set(day, list);
    }
    return events.length;
  }

  private seedAudiences(): void {
    const { config } = this;
    const seed = seedAudience({
      seed: config.seed,
      referenceMs: config.startNowMs,
      profiles: config.profiles,
      members: config.mailchimp.members,
    });
    const mergeFields = seedMergeFields(config.mailchimp.requiredMergeField);
    const createdMs = config.startNowMs - 900 * DAY_MS;
    if (config.mailchimp.audienceSize > 0) {
      this.generatedBase ??= buildGeneratedBase(config.mailchimp.audienceSize, { seed: config.seed, referenceMs: config.startNowMs });
    }
    const audience = Audience.fromSeed(config.mailchimp.listId, mergeFields, seed, createdMs, this.generatedBase ?? undefined);
    audience.interestCategories = interestCategories(audience.id);
    audience.marketingPermissions = marketingPermissions(audience.id);
    this.audiences = new Map([[config.mailchimp.listId, audience]]);
  }
}
