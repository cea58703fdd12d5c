/**
 * Interest categories, interests and tag search under /3.0/lists/{list_id}, with the API's
 * shapes (specs/mailchimp): collections take count, offset, fields and exclude_fields.
 * Definitions live on the audience (group-definitions.ts); the sandbox creates them with an
 * audience (seeded, or POST /__admin/mailchimp/lists), not through these routes.
 */
import type { RouteParams } from '../http.js';
import type { ApiAnswer, ApiCall, ApiRoute } from './api.js';
import { audienceOf, paging, projected } from './api.js';
import type { InterestCategoryDefinition } from './group-definitions.js';
import { findCategory, interestSubscriberCounts } from './groups.js';
import { mailchimpNotFound } from './problems.js';
import type { Audience } from './store.js';

const LIST = '/3.0/lists/{list_id}';
const CATEGORY = `${LIST}/interest-categories/{category_id}`;

export const GROUP_API_ROUTES: readonly ApiRoute[] = [
  { method: 'GET', path: `${LIST}/interest-categories`, handle: getCategories },
  { method: 'GET', path: CATEGORY, handle: getCategory },
  { method: 'GET', path: `${CATEGORY}/interests`, handle: getInterests },
  { method: 'GET', path: `${CATEGORY}/interests/{interest_id}`, handle: getInterest },
  { method: 'GET', path: `${LIST}/tag-search`, handle: searchTags },
];

function categoryDocument(audience: Audience, category: InterestCategoryDefinition): Record<string, unknown> {
  return { list_id: audience.id, id: category.id, title: category.title, display_order: category.display_order, type: category.type, _links: [] };
}

function categoryOf(call: ApiCall, params: RouteParams): { audience: Audience; category: InterestCategoryDefinition } {
  const audience = audienceOf(call, params);
  const category = findCategory(audience, params.category_id ?? '');
  if (!category) throw mailchimpNotFound();
  return { audience, category };
}

function getCategories(call: ApiCall, params: RouteParams): ApiAnswer {
  const audience = audienceOf(call, params);
  const { count, offset } = paging(call);
  const type = call.query.get('type');
  const categories = audience.interestCategories.filter((c) => !type || c.type === type);
  return projected(call, {
    list_id: audience.id,
    categories: categories.slice(offset, offset + count).map((c) => categoryDocument(audience, c)),
    total_items: categories.length,
    _links: [],
  });
}

function getCategory(call: ApiCall, params: RouteParams): ApiAnswer {
  const { audience, category } = categoryOf(call, params);
  return projected(call, categoryDocument(audience, category));
}

function interestDocuments(audience: Audience, category: InterestCategoryDefinition): Array<Record<string, unknown>> {
  const counts = interestSubscriberCounts(audience);
  // The API sends subscriber_count as a string.
  return category.interests.map((i) => ({
    category_id: category.id,
    list_id: audience.id,
    id: i.id,
    name: i.name,
    subscriber_count: String(counts.get(i.id) ?? 0),
    display_order: i.display_order,
    _links: [],
  }));
}

function getInterests(call: ApiCall, params: RouteParams): ApiAnswer {
  const { audience, category } = categoryOf(call, params);
  const { count, offset } = paging(call);
  const interests = interestDocuments(audience, category);
  return projected(call, { interests: interests.slice(offset, offset + count), list_id: audience.id, category_id: category.id, total_items: interests.length, _links: [] });
}

function getInterest(call: ApiCall, params: RouteParams): ApiAnswer {
  const { audience, category } = categoryOf(call, params);
  const interest = interestDocuments(audience, category).find((i) => i.id === params.interest_id);
  if (!interest) throw mailchimpNotFound();
  return projected(call, interest);
}

/** Tags whose name starts with `name` (every tag without it). */
function searchTags(call: ApiCall, params: RouteParams): ApiAnswer {
  const audience = audienceOf(call, params);
  const prefix = (call.query.get('name') ?? '').toLowerCase();
  const tags = audience.tags().filter((t) => t.name.toLowerCase().startsWith(prefix));
  return projected(call, { tags: tags.map((t) => ({ id: t.id, name: t.name })), total_items: tags.length });
}
