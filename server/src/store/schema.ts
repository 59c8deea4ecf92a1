import type { Generated } from 'kysely';

/**
 * Table row types, shared by both dialects. Conventions that keep one code path for SQLite and PostgreSQL:
 * - times are epoch milliseconds in integer/bigint columns (pg's int8 parser is set to Number in database.ts);
 * - booleans are 0/1 integers (SQLite has no boolean type);
 * - JSON is text, parsed by the repositories (no dialect JSON operators are needed).
 */

export type SystemName = 'hubspot' | 'dynamics';
export type TenantMode = 'uat' | 'production';
export type JobState = 'pending' | 'active' | 'dead';
export type ShadowDirection = 'to_hubspot' | 'to_dynamics';

export interface TenantsTable {
  id: string;
  hubspot_portal_id: string | null;
  dataverse_org_url: string | null;
  mode: TenantMode;
  main_switch: number;
  settings: string;
  created_at: number;
  updated_at: number;
}

export interface SecretsTable {
  tenant_id: string;
  name: string;
  ciphertext: string;
  key_id: string;
  updated_at: number;
}

export interface LinksTable {
  id: Generated<number>;
  tenant_id: string;
  dynamics_entity: string;
  dynamics_id: string;
  hubspot_object: string;
  hubspot_id: string;
  created_at: number;
  updated_at: number;
}

export interface ShadowsTable {
  link_id: number;
  field: string;
  value_hash: string;
  direction: ShadowDirection;
  written_at: number;
}

export interface InboxTable {
  id: Generated<number>;
  tenant_id: string;
  source: string;
  event_id: string;
  received_at: number;
  payload: string;
}

export interface JobsTable {
  id: Generated<number>;
  tenant_id: string;
  system: SystemName;
  object_type: string;
  record_id: string;
  state: JobState;
  trigger: string;
  enqueued_at: number;
  last_enqueued_at: number;
  coalesced_count: number;
  run_at: number;
  attempts: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  dead_at: number | null;
}

export interface SyncErrorsTable {
  id: Generated<number>;
  tenant_id: string;
  system: SystemName;
  object_type: string;
  record_id: string;
  code: string;
  what: string;
  why: string;
  how_to_fix: string;
  occurrences: number;
  first_seen_at: number;
  last_seen_at: number;
}

export interface Database {
  tenants: TenantsTable;
  secrets: SecretsTable;
  links: LinksTable;
  shadows: ShadowsTable;
  inbox: InboxTable;
  jobs: JobsTable;
  sync_errors: SyncErrorsTable;
}
