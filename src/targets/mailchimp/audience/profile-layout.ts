/**
 * How a member's profile fields are kept in the member table: a few bits each, not the values.
 * One bit per managed marketing permission and per managed interest, one for VIP, and eight for
 * the language (an index into the languages seen in the run: Mailchimp has about fifty). Three
 * permissions, five interests, language and VIP fit in one 32-bit word per member: 4 MB for a
 * million members.
 *
 * Only the permissions and interests the settings name are kept: the others are never written,
 * so nothing needs to be known of them.
 */
import type { MemberInfo } from '../api/api.js';
import type { ProfileValues } from '../members/profile.js';
import { managedInterestIds, type ProfileRules } from '../members/profile-settings.js';

const LANGUAGE_BITS = 8;
/** The language index of a value past the first 254 distinct ones: it never equals a wanted language, so it is written. */
const OTHER_LANGUAGE = (1 << LANGUAGE_BITS) - 1;
const UNKNOWN_LANGUAGE = '\u0000other';

export class ProfileLayout {
  readonly words: number;
  private readonly permissionBits = new Map<string, number>();
  private readonly interestBits = new Map<string, number>();
  private readonly languageAt: number | undefined;
  private readonly vipAt: number | undefined;
  private readonly languages: string[] = [''];
  private readonly languageIds = new Map<string, number>([['', 0]]);

  constructor(readonly rules: ProfileRules) {
    let bit = 0;
    if (rules.languageProperty !== undefined) {
      this.languageAt = bit;
      bit += LANGUAGE_BITS;
    }
    if (rules.vipProperty !== undefined) this.vipAt = bit++;
    for (const rule of rules.permissions) if (!this.permissionBits.has(rule.id)) this.permissionBits.set(rule.id, bit++);
    for (const id of managedInterestIds(rules)) if (!this.interestBits.has(id)) this.interestBits.set(id, bit++);
    this.words = Math.ceil(bit / 32);
  }

  /** The member fields a lookup or a page must ask for (Mailchimp's `fields`). */
  memberFields(): string[] {
    return [
      ...(this.permissionBits.size > 0 ? ['marketing_permissions'] : []),
      ...(this.interestBits.size > 0 ? ['interests'] : []),
      ...(this.languageAt !== undefined ? ['language'] : []),
      ...(this.vipAt !== undefined ? ['vip'] : []),
    ];
  }

  /** The words for a member as Mailchimp describes it. */
  fromMember(member: Pick<MemberInfo, 'marketing_permissions' | 'interests' | 'language' | 'vip'>): number[] {
    const permissions: Record<string, boolean> = {};
    for (const p of member.marketing_permissions ?? []) permissions[p.marketing_permission_id] = p.enabled === true;
    return this.withValues(undefined, { permissions, interests: member.interests ?? {}, language: member.language ?? '', vip: member.vip === true });
  }

  /** The words after these values are written over `previous` (a new member: everything off). */
  withValues(previous: readonly number[] | undefined, values: ProfileValues): number[] {
    const words = previous ? [...previous] : new Array<number>(this.words).fill(0);
    for (const [id, on] of Object.entries(values.permissions ?? {})) setBits(words, this.permissionBits.get(id), 1, on ? 1 : 0);
    for (const [id, on] of Object.entries(values.interests ?? {})) setBits(words, this.interestBits.get(id), 1, on ? 1 : 0);
    if (values.vip !== undefined) setBits(words, this.vipAt, 1, values.vip ? 1 : 0);
    if (values.language !== undefined) setBits(words, this.languageAt, LANGUAGE_BITS, this.languageId(values.language));
    return words;
  }

  /** The values the words hold, by id. */
  read(words: readonly number[]): ProfileValues {
    const values: ProfileValues = {};
    for (const [id, at] of this.permissionBits) (values.permissions ??= {})[id] = getBits(words, at, 1) === 1;
    for (const [id, at] of this.interestBits) (values.interests ??= {})[id] = getBits(words, at, 1) === 1;
    if (this.vipAt !== undefined) values.vip = getBits(words, this.vipAt, 1) === 1;
    if (this.languageAt !== undefined) {
      const id = getBits(words, this.languageAt, LANGUAGE_BITS);
      values.language = id === OTHER_LANGUAGE ? UNKNOWN_LANGUAGE : (this.languages[id] ?? UNKNOWN_LANGUAGE);
    }
    return values;
  }

  private languageId(language: string): number {
    let id = this.languageIds.get(language);
    if (id === undefined) {
      if (this.languages.length >= OTHER_LANGUAGE) return OTHER_LANGUAGE;
      id = this.languages.length;
      this.languages.push(language);
      this.languageIds.set(language, id);
    }
    return id;
  }
}

function setBits(words: number[], at: number | undefined, width: number, value: number): void {
  if (at === undefined) return;
  for (let b = 0; b < width; b++) {
    const bit = at + b;
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    words[word] = ((value >>> b) & 1 ? (words[word] ?? 0) | mask : (words[word] ?? 0) & ~mask) >>> 0;
  }
}

function getBits(words: readonly number[], at: number, width: number): number {
  let value = 0;
  for (let b = 0; b < width; b++) {
    const bit = at + b;
    if (((words[bit >>> 5] ?? 0) >>> (bit & 31)) & 1) value |= 1 << b;
  }
  return value;
}
