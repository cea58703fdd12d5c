import { describe, expect, it } from '@jest/globals';
import { ProjectCalendar, formatDay, parseDay } from '../../src/sandbox/calendar.js';
import { AUDIENCE_CATEGORIES, DayEvents, describeSeed, generateProfile, profileDistinctId } from '../../src/sandbox/data.js';
import type { MixpanelEvent } from '../../src/sandbox/data.js';
import { resolveOptions } from '../../src/sandbox/options.js';

const NOW = '2024-06-10T12:00:00Z';

function dayEvents(seed: number, day: string, eventsPerDay: number, zone = 'UTC'): MixpanelEvent[] {
  const profileIds = Array.from({ length: 100 }, (_, k) => profileDistinctId(seed, k));
  const generator = new DayEvents({ seed, eventsPerDay, calendar: new ProjectCalendar(zone), profileIds }, parseDay(day) as number);
  const out: MixpanelEvent[] = [];
  for (let i = 0; i < generator.count; i++) out.push(generator.at(i) as MixpanelEvent);
  return out;
}

describe('calendar', () => {
  it('parses days strictly', () => {
    expect(parseDay('2024-02-29')).toBe(19782);
    expect(formatDay(19782)).toBe('2024-02-29');
    expect(parseDay('2023-02-29')).toBeNull();
    expect(parseDay('2024-1-01')).toBeNull();
  });

  it('knows a DST day is 23 hours long in Los Angeles', () => {
    const bounds = new ProjectCalendar('America/Los_Angeles').dayBounds(parseDay('2024-03-10') as number);
    expect(bounds.endMs - bounds.startMs).toBe(23 * 3_600_000);
    expect(bounds.offsetBeforeMs).toBe(-8 * 3_600_000);
    expect(bounds.offsetAfterMs).toBe(-7 * 3_600_000);
    expect(new Date(bounds.transitionMs).toISOString()).toBe('2024-03-10T10:00:00.000Z');
  });

  it('treats UTC-like zones as UTC and London as zoned', () => {
    expect(new ProjectCalendar('Etc/UTC').isUtc).toBe(true);
    expect(new ProjectCalendar('Europe/London').isUtc).toBe(false);
  });
});

describe('event generation', () => {
  it('is a pure function of seed, day and index', () => {
    expect(JSON.stringify(dayEvents(7, '2024-06-01', 300))).toBe(JSON.stringify(dayEvents(7, '2024-06-01', 300)));
    expect(JSON.stringify(dayEvents(8, '2024-06-01', 300))).not.toBe(JSON.stringify(dayEvents(7, '2024-06-01', 300)));
  });

  it('keeps every event inside its day, in time order', () => {
    const events = dayEvents(42, '2024-06-01', 500);
    const times = events.map((e) => e.properties.time as number);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(Date.UTC(2024, 5, 1) / 1000);
    expect(Math.max(...times)).toBeLessThan(Date.UTC(2024, 5, 2) / 1000);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('uses local seconds for a zoned project, including across a DST change', () => {
    for (const day of ['2024-03-10', '2024-06-01']) {
      for (const event of dayEvents(42, day, 300, 'America/Los_Angeles')) {
        expect(new Date((event.properties.time as number) * 1000).toISOString().slice(0, 10)).toBe(day);
      }
    }
    // In June Los Angeles is UTC-7: local seconds trail the real instant by 7 hours.
    const june = dayEvents(42, '2024-06-01', 300, 'America/Los_Angeles');
    for (const event of june) {
      const lag = (event.properties.mp_processing_time_ms as number) - (event.properties.time as number) * 1000;
      expect(lag).toBeGreaterThanOrEqual(7 * 3_600_000);
    }
  });

  it('has the documented quirks in about the documented proportions', () => {
    const events: MixpanelEvent[] = [];
    for (const day of ['2024-06-01', '2024-06-02', '2024-06-03', '2024-06-04']) events.push(...dayEvents(42, day, 6000));
    const n = events.length;
    const missingInsertId = events.filter((e) => e.properties.$insert_id === undefined).length / n;
    const late = events.filter((e) => (e.properties.mp_processing_time_ms as number) - (e.properties.time as number) * 1000 >= 86_400_000).length / n;
    const keys = events.map((e) => JSON.stringify([e.event, e.properties.distinct_id, e.properties.time, e.properties.$insert_id]));
    const duplicates = n - new Set(keys).size;
    expect(missingInsertId).toBeGreaterThan(0.002);
    expect(missingInsertId).toBeLessThan(0.01);
    expect(late).toBeGreaterThan(0.012);
    expect(late).toBeLessThan(0.03);
    expect(duplicates).toBeGreaterThan(20);
    expect(duplicates).toBeLessThan(200);
    const names = new Set(events.map((e) => e.event));
    for (const name of ['Sign Up', 'Page View', 'Purchase', 'Café visité', '注册', '🎉 Milestone Reached']) expect(names.has(name)).toBe(true);
  });

  it('serialises with toJson exactly as JSON.stringify does', () => {
    for (const zone of ['UTC', 'Asia/Kolkata']) {
      const profileIds = Array.from({ length: 50 }, (_, k) => profileDistinctId(42, k));
      const events = new DayEvents({ seed: 42, eventsPerDay: 5000, calendar: new ProjectCalendar(zone), profileIds }, parseDay('2024-06-01') as number);
      for (let i = 0; i < events.count; i++) {
        expect(events.select(i)).toBe(true);
        const object = events.toObject();
        expect(events.toJson()).toBe(JSON.stringify(object));
        object.properties.time = events.timeMs;
        expect(events.toJson(true)).toBe(JSON.stringify(object));
      }
    }
  });

  it('draws distinct_ids from the profile population, with some anonymous devices', () => {
    const ids = new Set(Array.from({ length: 100 }, (_, k) => profileDistinctId(42, k)));
    const events = dayEvents(42, '2024-06-01', 2000);
    const known = events.filter((e) => ids.has(e.properties.distinct_id as string)).length;
    const anonymous = events.filter((e) => String(e.properties.distinct_id).startsWith('$device:')).length;
    expect(known + anonymous).toBe(events.length);
    expect(anonymous / events.length).toBeGreaterThan(0.03);
    expect(anonymous / events.length).toBeLessThan(0.12);
  });
});

describe('profiles', () => {
  const context = { seed: 42, referenceMs: Date.parse(NOW) };

  it('place quirks at documented positions', () => {
    expect(generateProfile(context, 2).email).toBe('not-an-email');
    expect(generateProfile(context, 3).email).toBe('bob@@example.org');
    expect(generateProfile(context, 4).email).toBe('trailing.dot.@x.io');
    expect(generateProfile(context, 5).email).toMatch(/^\s+\S+@\S+\s+$/);
    expect(generateProfile(context, 11).record.$properties.$email).toBeUndefined();
    expect(generateProfile(context, 13).record.$properties.$name).toBeUndefined();
    expect(generateProfile(context, 1).record.$properties.$unsubscribed).toBe(true);
    const original = generateProfile(context, 8).email as string;
    const twin = generateProfile(context, 9).email as string;
    expect(original).not.toBe(twin);
    expect(original.toLowerCase()).toBe(twin);
    expect(generateProfile(context, 7).record.$properties.$name).toMatch(/^[\p{Script=Han}\p{Script=Hangul}]+$/u);
  });

  it('use Mixpanel date shapes and no example.com', () => {
    for (let k = 0; k < 200; k++) {
      const { $properties } = generateProfile(context, k).record;
      expect($properties.$created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
      expect($properties.$last_seen).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
      expect(String($properties.$email ?? '')).not.toMatch(/example\.com/);
    }
  });
});

describe('describeSeed', () => {
  const options = { seed: 42, now: NOW, profiles: 500 };
  const seed = describeSeed(options);

  it('fills every category, with disjoint emails', () => {
    const all: string[] = [];
    for (const category of AUDIENCE_CATEGORIES) {
      expect(seed[category].length).toBeGreaterThan(0);
      all.push(...seed[category].map((e) => e.toLowerCase()));
    }
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(60);
    expect(seed.archived).toHaveLength(1);
    expect(seed.forgotten).toHaveLength(1);
  });

  it('overlaps the profiles on purpose, except notInMixpanel', () => {
    const config = resolveOptions(options);
    const emails = new Set<string>();
    for (let k = 0; k < config.profiles; k++) {
      const email = generateProfile({ seed: config.seed, referenceMs: config.startNowMs }, k).email;
      if (email) emails.add(email);
    }
    for (const category of AUDIENCE_CATEGORIES) {
      for (const email of seed[category]) expect(emails.has(email)).toBe(category !== 'notInMixpanel');
    }
  });

  it('reports the profile quirks', () => {
    expect(seed.profiles.invalidEmails.slice(0, 3)).toEqual(['not-an-email', 'bob@@example.org', 'trailing.dot.@x.io']);
    expect(seed.profiles.casePairs.length).toBe(10);
    for (const [a, b] of seed.profiles.casePairs) expect(a.toLowerCase()).toBe(b);
    expect(seed.profiles.whitespaceEmails.length).toBe(5);
    expect(seed.profiles.withoutEmail.length).toBe(20);
    expect(seed.profiles.unsubscribed.length).toBe(1);
  });

  it('keeps every category even in a ten-member audience', () => {
    const small = describeSeed({ ...options, mailchimp: { members: 10 } });
    for (const category of AUDIENCE_CATEGORIES) expect(small[category]).toHaveLength(1);
  });
});
