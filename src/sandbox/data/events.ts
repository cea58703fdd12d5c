/**
 * Mixpanel events: event i of day d is a pure function of (seed, d, i), so a day is produced
 * one event at a time and a million-event range streams with flat memory.
 *
 * Quirks, as in real exports:
 *   - ~0.5% of events have no $insert_id;
 *   - ~2% are "late": processed (mp_processing_time_ms) 1 to 5 days after they happened; the
 *     rest are processed 1 s to 10 min after;
 *   - ~0.2% are exact duplicates of the event before them (same event, distinct_id, time,
 *     $insert_id): export does not deduplicate;
 *   - ~7% come from anonymous devices ($device:...) that have no profile.
 * Event times are spread evenly over the day (stratified), so a day's events come out in time order.
 */
import type { DayBounds, ProjectCalendar } from '../calendar.js';
import { Rng, hashSeed, weightedTable } from '../random.js';
import type { WeightedTable } from '../random.js';
import {
  BROWSERS,
  CAFES,
  CURRENCIES,
  MP_LIBS,
  OPERATING_SYSTEMS,
  PAGE_PATHS,
  PLACES,
  PLANS,
  PRODUCTS,
  SEARCH_QUERIES,
} from './pools.js';

export interface MixpanelEvent {
  event: string;
  properties: Record<string, unknown>;
}

const SALT_EVENT = 0x45564e54;
const SALT_DUPLICATE = 0x44555045;
const DAY_MS = 86_400_000;

export const EVENT_QUIRK_RATES = {
  missingInsertId: 0.005,
  late: 0.02,
  duplicate: 0.002,
  anonymous: 0.07,
} as const;

type PropertyBuilder = (rng: Rng, localMs: number) => Record<string, unknown>;

interface EventType {
  name: string;
  weight: number;
  build: PropertyBuilder;
}

/** "YYYY-MM-DDTHH:MM:SS" (Mixpanel's datetime shape) and full ISO with Z: real data mixes both. */
const naiveDateTime = (ms: number): string => new Date(ms).toISOString().slice(0, 19);
const isoDateTime = (ms: number): string => new Date(ms).toISOString();

const EVENT_TYPES: readonly EventType[] = [
  {
    name: 'Page View',
    weight: 34,
    build: (rng) => ({
      page_path: rng.pick(PAGE_PATHS),
      page_title: rng.pick(['Home', 'Pricing', 'Launch week', 'Getting started', 'Cart', 'Checkout', 'Mon compte']),
      duration_ms: rng.between(200, 180_000),
      scroll_depth: rng.float(0, 1, 3),
      is_logged_in: rng.chance(0.6),
      referrer: rng.chance(0.4) ? null : rng.pick(['https://www.google.com/', 'https://news.ycombinator.com/', 'https://t.co/x1']),
      $experiment_variant: rng.pick(['control', 'A', 'B']),
    }),
  },
  {
    name: 'Sign Up',
    weight: 5,
    build: (rng, localMs) => ({
      signup_method: rng.pick(['email', 'google', 'apple']),
      plan: rng.pick(PLANS),
      referral_code: rng.chance(0.7) ? null : `REF-${rng.hex(6).toUpperCase()}`,
      trial_ends_at: naiveDateTime(localMs + 14 * DAY_MS),
      accepted_terms: true,
      utm: { source: rng.pick(['google', 'newsletter', 'twitter']), medium: rng.pick(['cpc', 'email', 'social']), campaign: 'spring_launch' },
    }),
  },
  {
    name: 'Log In',
    weight: 10,
    build: (rng) => ({ method: rng.pick(['password', 'sso', 'magic_link']), remember_me: rng.chance(0.5), attempt: rng.between(1, 3) }),
  },
  {
    name: 'Search',
    weight: 10,
    build: (rng) => ({
      query: rng.pick(SEARCH_QUERIES),
      results_count: rng.between(0, 250),
      filters: ['size', 'colour', 'price', 'brand'].filter(() => rng.chance(0.3)),
      took_ms: rng.float(1, 900, 1),
    }),
  },
  {
    name: 'Add to Cart',
    weight: 8,
    build: (rng) => {
      const [sku, name, price] = rng.pick(PRODUCTS);
      return { product_id: sku, product_name: name, price, quantity: rng.between(1, 4), categories: ['apparel', 'home', 'coffee'].filter(() => rng.chance(0.4)), in_stock: rng.chance(0.9) };
    },
  },
  {
    name: 'Purchase',
    weight: 4,
    build: (rng, localMs) => {
      const lines = rng.between(1, 3);
      const items: Array<Record<string, unknown>> = [];
      let amount = 0;
      for (let n = 0; n < lines; n++) {
        const [sku, , price] = rng.pick(PRODUCTS);
        const qty = rng.between(1, 3);
        amount += price * qty;
        items.push({ sku, qty, price });
      }
      return {
        order_id: `ord_${rng.hex(10)}`,
        amount: Math.round(amount * 100) / 100,
        currency: rng.pick(CURRENCIES),
        items,
        coupon: rng.chance(0.8) ? null : rng.pick(['WELCOME10', 'ÉTÉ2024']),
        shipping: { method: rng.pick(['standard', 'express']), address: { city: rng.pick(PLACES).city, country: rng.pick(PLACES).countryCode } },
        first_purchase: rng.chance(0.3),
        purchased_at: isoDateTime(localMs),
      };
    },
  },
  {
    name: 'Video Played',
    weight: 8,
    build: (rng) => ({
      video_id: `vid_${rng.hex(8)}`,
      duration_s: rng.float(5, 3600, 1),
      autoplay: rng.chance(0.2),
      quality: rng.pick(['480p', '720p', '1080p', '4k']),
      watched_pct: rng.float(0, 100, 1),
      chapters: [1, 2, 3, 4].filter(() => rng.chance(0.5)),
    }),
  },
  {
    name: 'Share',
    weight: 3,
    build: (rng) => ({ channel: rng.pick(['email', 'whatsapp', 'x', 'copy_link']), target_url: `https://shop.acme.io/p/${rng.hex(6)}`, recipients: rng.between(1, 12) }),
  },
  {
    name: 'Café visité',
    weight: 5,
    build: (rng) => ({ café: rng.pick(CAFES), note: rng.between(1, 5), 'prix €': rng.float(1.5, 9, 2), avec_lait: rng.chance(0.5) }),
  },
  {
    name: '注册',
    weight: 3,
    build: (rng) => ({ 渠道: rng.pick(['微信', '邮箱', '手机']), 邀请码: rng.chance(0.6) ? null : rng.hex(6) }),
  },
  {
    name: '🎉 Milestone Reached',
    weight: 2,
    build: (rng) => ({ milestone: rng.pick([10, 50, 100, 500]), label: rng.pick(['🚀 launch', 'streak', 'first order']), badges: ['⭐', '🔥', '💎'].filter(() => rng.chance(0.5)), details: { level: rng.between(1, 9), unlocked: rng.chance(0.5) } }),
  },
  {
    name: 'Settings Updated',
    weight: 2,
    build: (rng) => ({ setting: rng.pick(['language', 'theme', 'notifications']), new_value: rng.pick(['pt-BR', 'dark', 'off', 'ja']), previous_value: rng.chance(0.3) ? null : 'default' }),
  },
];

const EVENT_TABLE: WeightedTable<EventType> = weightedTable(EVENT_TYPES.map((t) => [t, t.weight] as const));

/** Every event name, most frequent first (what /events/names answers). */
export const EVENT_NAMES: readonly string[] = [...EVENT_TYPES].sort((a, b) => b.weight - a.weight).map((t) => t.name);

/*
 * The export serialises events itself (toJson) rather than through JSON.stringify of the whole
 * object: common properties come from fixed pools whose JSON text is computed here once, so only
 * the small event-specific part goes through JSON.stringify. That halves the cost per event.
 * tests/sandbox/data.test.ts checks toJson() === JSON.stringify(toObject()) over many events.
 */
interface Choice {
  readonly value: string;
  readonly json: string;
}

const choices = (values: readonly string[]): readonly Choice[] => values.map((value) => ({ value, json: JSON.stringify(value) }));
const BROWSER_CHOICES = choices(BROWSERS);
const OS_CHOICES = choices(OPERATING_SYSTEMS);
const URL_CHOICES = choices(PAGE_PATHS.map((path) => `https://shop.acme.io${path}`));
const LIB_CHOICES = MP_LIBS.map((lib) => {
  const version = lib === 'web' ? '2.55.1' : '4.3.0';
  return { value: lib, json: `,"mp_lib":${JSON.stringify(lib)},"$lib_version":${JSON.stringify(version)}`, version };
});
const PLACE_CHOICES = PLACES.map((place) => ({
  place,
  json: `,"$city":${JSON.stringify(place.city)},"$region":${JSON.stringify(place.region)},"mp_country_code":${JSON.stringify(place.countryCode)}`,
}));
const EVENT_HEADS = new Map(EVENT_TYPES.map((t) => [t, `{"event":${JSON.stringify(t.name)},"properties":{"time":`]));

// Quoted profile distinct_ids, computed once per population.
const quotedIdCache = new WeakMap<readonly string[], readonly string[]>();
function quotedIds(ids: readonly string[]): readonly string[] {
  let quoted = quotedIdCache.get(ids);
  if (!quoted) {
    quoted = ids.map((id) => JSON.stringify(id));
    quotedIdCache.set(ids, quoted);
  }
  return quoted;
}

function pickIndex<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.int(items.length)] as T;
}

export interface EventContext {
  seed: number;
  eventsPerDay: number;
  calendar: ProjectCalendar;
  /** distinct_ids of the profile population. */
  profileIds: readonly string[];
}

/**
 * Produces the events of one day on demand: `select(i)` prepares event i, then `processedMs`,
 * `toObject()` and `toJson()` read it. `toObject` returns a fresh object each call.
 */
export class DayEvents {
  readonly count: number;
  /** `time` of the selected event in milliseconds (local ms for a zoned project). */
  timeMs = 0;
  /** mp_processing_time_ms of the selected event. */
  processedMs = 0;
  private readonly bounds: DayBounds;
  private readonly spanMs: number;
  private readonly quotedProfileIds: readonly string[];
  private type: EventType = EVENT_TYPES[0] as EventType;
  private distinctId = '';
  private distinctIdJson = '""';
  private insertId: string | undefined = undefined;
  private place = PLACE_CHOICES[0] as (typeof PLACE_CHOICES)[number];
  private browser = BROWSER_CHOICES[0] as Choice;
  private os = OS_CHOICES[0] as Choice;
  private url = URL_CHOICES[0] as Choice;
  private lib = LIB_CHOICES[0] as (typeof LIB_CHOICES)[number];
  private custom: Record<string, unknown> = {};

  constructor(
    private readonly ctx: EventContext,
    readonly day: number,
  ) {
    this.count = ctx.eventsPerDay;
    this.bounds = ctx.calendar.dayBounds(day);
    this.spanMs = this.bounds.endMs - this.bounds.startMs;
    this.quotedProfileIds = quotedIds(ctx.profileIds);
  }

  /** Event i of the day as an object; null when `names` is given and the event's name is not in it. */
  at(i: number, names?: ReadonlySet<string> | null): MixpanelEvent | null {
    return this.select(i, names) ? this.toObject() : null;
  }

  /** Prepares event i; false when `names` is given and the event's name is not in it. */
  select(i: number, names?: ReadonlySet<string> | null): boolean {
    // A duplicate repeats the event before it exactly; never two duplicates in a row.
    return this.prepare(this.isDuplicate(i) ? i - 1 : i, names);
  }

  /** The selected event; `time` in seconds. */
  toObject(): MixpanelEvent {
    // One literal with every common key keeps the object in V8's fast mode (cheap to stringify).
    // A missing $insert_id is an undefined value: JSON omits it and defined() is false for it.
    const properties: Record<string, unknown> = {
      time: Math.floor(this.timeMs / 1000),
      distinct_id: this.distinctId,
      $insert_id: this.insertId,
      mp_processing_time_ms: this.processedMs,
      $browser: this.browser.value,
      $os: this.os.value,
      $city: this.place.place.city,
      $region: this.place.place.region,
      mp_country_code: this.place.place.countryCode,
      $current_url: this.url.value,
      mp_lib: this.lib.value,
      $lib_version: this.lib.version,
    };
    Object.assign(properties, this.custom);
    return { event: this.type.name, properties };
  }

  /** The selected event as one JSON line: exactly JSON.stringify(toObject()), with `time` in ms if asked. */
  toJson(timeInMs = false): string {
    const custom = JSON.stringify(this.custom);
    return (
      (EVENT_HEADS.get(this.type) as string) +
      (timeInMs ? this.timeMs : Math.floor(this.timeMs / 1000)) +
      ',"distinct_id":' +
      this.distinctIdJson +
      // Insert ids are letters and digits: nothing to escape.
      (this.insertId === undefined ? '' : `,"$insert_id":"${this.insertId}"`) +
      ',"mp_processing_time_ms":' +
      this.processedMs +
      ',"$browser":' +
      this.browser.json +
      ',"$os":' +
      this.os.json +
      this.place.json +
      ',"$current_url":' +
      this.url.json +
      this.lib.json +
      (custom.length > 2 ? `,${custom.slice(1)}` : '}') +
      '}'
    );
  }

  private isDuplicate(i: number): boolean {
    return i > 0 && this.duplicateCandidate(i) && !this.duplicateCandidate(i - 1);
  }

  private duplicateCandidate(i: number): boolean {
    return hashSeed(this.ctx.seed, SALT_DUPLICATE, this.day, i) / 4294967296 < EVENT_QUIRK_RATES.duplicate;
  }

  private prepare(i: number, names?: ReadonlySet<string> | null): boolean {
    const { ctx, bounds } = this;
    const rng = new Rng(hashSeed(ctx.seed, SALT_EVENT, this.day, i));
    const type = rng.weighted(EVENT_TABLE);
    if (names && !names.has(type.name)) return false;
    const instantMs = bounds.startMs + Math.floor(((i + rng.next()) * this.spanMs) / this.count);
    const localMs = ctx.calendar.localMs(instantMs, bounds);
    const late = rng.chance(EVENT_QUIRK_RATES.late);
    const delayMs = late ? DAY_MS + Math.floor(rng.next() * 4 * DAY_MS) : 1000 + Math.floor(rng.next() ** 3 * 600_000);
    if (ctx.profileIds.length === 0 || rng.chance(EVENT_QUIRK_RATES.anonymous)) {
      // Hex digits only: the JSON form needs no escaping.
      this.distinctId = `$device:${rng.hex(14)}-${rng.hex(12)}`;
      this.distinctIdJson = `"${this.distinctId}"`;
    } else {
      const k = Math.floor(rng.next() ** 1.6 * ctx.profileIds.length);
      this.distinctId = ctx.profileIds[k] as string;
      this.distinctIdJson = this.quotedProfileIds[k] as string;
    }
    this.type = type;
    this.timeMs = localMs;
    this.processedMs = instantMs + delayMs;
    this.insertId = rng.chance(EVENT_QUIRK_RATES.missingInsertId) ? undefined : rng.token(24);
    this.place = pickIndex(rng, PLACE_CHOICES);
    this.browser = pickIndex(rng, BROWSER_CHOICES);
    this.os = pickIndex(rng, OS_CHOICES);
    this.url = pickIndex(rng, URL_CHOICES);
    this.lib = pickIndex(rng, LIB_CHOICES);
    this.custom = type.build(rng, localMs);
    return true;
  }
}
