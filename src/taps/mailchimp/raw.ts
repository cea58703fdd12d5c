/**
 * Mailchimp's answers as the tap reads them (Marketing API 3.0; specs/mailchimp). Only the
 * fields the tap itself looks at are typed; records pass everything else through.
 */

export type MergeFieldType = 'text' | 'number' | 'address' | 'phone' | 'date' | 'url' | 'imageurl' | 'radio' | 'dropdown' | 'birthday' | 'zip';

export interface RawMergeField {
  merge_id: number;
  tag: string;
  name: string;
  type: MergeFieldType | string;
  required?: boolean;
  options?: { date_format?: string; choices?: string[]; [other: string]: unknown };
  [other: string]: unknown;
}

export interface RawList {
  id: string;
  name?: string;
  date_created?: string;
  marketing_permissions?: boolean;
  stats?: Record<string, unknown>;
  [other: string]: unknown;
}

export interface RawInterestCategory {
  id: string;
  title?: string;
  type?: string;
  display_order?: number;
  [other: string]: unknown;
}

export interface RawInterest {
  id: string;
  category_id?: string;
  name?: string;
  subscriber_count?: string | number;
  display_order?: number;
  [other: string]: unknown;
}

export interface RawTag {
  id: number;
  name: string;
  member_count?: number;
  type?: string;
  created_at?: string;
  updated_at?: string;
  [other: string]: unknown;
}

export interface RawMember {
  id: string;
  status?: string;
  last_changed?: string;
  merge_fields?: Record<string, unknown>;
  tags?: Array<{ id: number; name: string }>;
  tags_count?: number;
  [other: string]: unknown;
}
