/**
 * The record properties the settings name (`merge_fields` values, `tag_properties`,
 * `email_property`), checked against the SCHEMA of each stream the target loads.
 *
 * A property the SCHEMA does not declare while it declares one close to it (`plna` next to
 * `plan`) is a typo: the run stops at that SCHEMA, before any record of the stream is loaded and
 * before a state after it is printed, naming the setting and the property meant. A property far
 * from every declared one may still come in records (taps such as tap-mixpanel pass through
 * properties that appeared after discovery): it is watched, and if no SCHEMA declared it and no
 * record had it by the end of the input, the run says so in a warning (summary, report, alert).
 */
import { ConfigError } from '../../../errors/index.js';
import type { JsonObject } from '../../../singer/messages.js';
import { closestName } from '../../../util/near-miss.js';
import { listSetting, type TargetConfig } from '../config.js';
import { profileProperties, type ProfileConfig } from '../members/profile-settings.js';

export interface MappedProperty {
  /** The setting that names it, e.g. merge_fields.PLAN. */
  setting: string;
  property: string;
  /** What goes unfilled when no record has it, for the warning (email_property has its own). */
  unfilled?: string;
}

/** The properties the settings name, in the order a user reads the settings. */
export function mappedProperties(config: Partial<Pick<TargetConfig, 'merge_fields' | 'tag_properties' | 'email_property'>> & ProfileConfig): MappedProperty[] {
  const mapped: MappedProperty[] = [];
  if (config.email_property) mapped.push({ setting: 'email_property', property: config.email_property });
  for (const [tag, property] of Object.entries(config.merge_fields ?? {})) {
    if (typeof property === 'string') mapped.push({ setting: `merge_fields.${tag}`, property, unfilled: `merge field ${tag} was not filled` });
  }
  for (const property of listSetting(config.tag_properties)) {
    mapped.push({ setting: 'tag_properties', property, unfilled: `no ${property}:value tag was written` });
  }
  mapped.push(...profileProperties(config));
  return mapped;
}

export class MappedPropertyCheck {
  /** Properties no SCHEMA seen so far declares, until a record has one. */
  private readonly watched = new Map<string, MappedProperty[]>();
  private readonly declared = new Set<string>();
  private readonly carried = new Set<string>();

  constructor(private readonly mapped: readonly MappedProperty[]) {}

  /** A SCHEMA of a loaded stream. Throws a ConfigError naming every mapped property that is a near miss of a declared one. */
  schema(stream: string, properties: Readonly<Record<string, unknown>>, line: number): void {
    const names = Object.keys(properties);
    const problems: string[] = [];
    for (const m of this.mapped) {
      if (Object.hasOwn(properties, m.property)) {
        this.declared.add(m.property);
        this.watched.delete(m.property);
        continue;
      }
      if (this.declared.has(m.property)) continue;
      const meant = closestName(m.property, names);
      if (meant !== undefined) {
        problems.push(`"${m.setting}" names the property "${m.property}", which the SCHEMA of stream "${stream}" (line ${line}) does not declare: did you mean "${meant}"?`);
        continue;
      }
      const list = this.watched.get(m.property) ?? [];
      if (!list.includes(m)) list.push(m);
      this.watched.set(m.property, list);
    }
    if (problems.length > 0) {
      throw new ConfigError(`stopped at the SCHEMA of stream "${stream}" (line ${line}), before loading any record of it: a setting names a property the stream does not have`, { details: problems });
    }
  }

  /** A record of a loaded stream: a watched property it has is no longer in doubt. */
  record(data: JsonObject): void {
    if (this.watched.size === 0) return;
    for (const property of this.watched.keys()) {
      if (Object.hasOwn(data, property)) {
        this.carried.add(property);
        this.watched.delete(property);
      }
    }
  }

  /** At the end of the input: one warning per setting whose property no SCHEMA declared and no record had. */
  warnings(recordsRead: number): string[] {
    const warnings: string[] = [];
    for (const [property, settings] of this.watched) {
      for (const m of settings) {
        if (!m.unfilled) continue;
        warnings.push(`"${m.setting}" names the property "${property}", which no SCHEMA of the loaded streams declares and none of the ${recordsRead} records had: ${m.unfilled}`);
      }
    }
    return warnings;
  }
}
