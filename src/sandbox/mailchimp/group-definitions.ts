/**
 * An audience's interest categories with their interests (Mailchimp's "groups") and its GDPR
 * marketing permissions, as definitions: the API's shapes (specs/mailchimp: interest-categories,
 * interests) and the seeded ones. Ids are 10 hex digits derived from the audience and the name,
 * so two sandboxes with the same options agree. What each member has is groups.ts.
 */
import { hash } from 'node:crypto';

export type InterestCategoryType = 'checkboxes' | 'dropdown' | 'radio' | 'hidden';

export interface InterestDefinition {
  id: string;
  name: string;
  display_order: number;
}

export interface InterestCategoryDefinition {
  id: string;
  title: string;
  type: InterestCategoryType;
  display_order: number;
  interests: InterestDefinition[];
}

export interface MarketingPermissionDefinition {
  marketing_permission_id: string;
  text: string;
}

export interface GroupSpec {
  title: string;
  type?: InterestCategoryType;
  interests: readonly string[];
}

export const DEFAULT_GROUPS: readonly GroupSpec[] = [
  { title: 'Topics', type: 'checkboxes', interests: ['Product news', 'Events', 'Tips and tutorials'] },
  { title: 'How often', type: 'radio', interests: ['Weekly', 'Monthly'] },
];

export const DEFAULT_PERMISSIONS: readonly string[] = ['Email', 'Direct Mail', 'Customized Online Advertising'];

function idFor(...parts: string[]): string {
  return hash('md5', parts.join('\u0000'), 'hex').slice(0, 10);
}

export function interestCategories(listId: string, specs: readonly GroupSpec[] = DEFAULT_GROUPS): InterestCategoryDefinition[] {
  return specs.map((spec, i) => ({
    id: idFor(listId, 'category', spec.title),
    title: spec.title,
    type: spec.type ?? 'checkboxes',
    display_order: i,
    interests: spec.interests.map((name, j) => ({ id: idFor(listId, 'interest', spec.title, name), name, display_order: j + 1 })),
  }));
}

export function marketingPermissions(listId: string, texts: readonly string[] = DEFAULT_PERMISSIONS): MarketingPermissionDefinition[] {
  return texts.map((text) => ({ marketing_permission_id: idFor(listId, 'permission', text), text }));
}
