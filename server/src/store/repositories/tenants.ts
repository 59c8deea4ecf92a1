import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database, TenantMode, TenantsTable } from '../schema.ts';
import type { Clock } from '../clock.ts';

export type TenantSettings = Record<string, unknown>;

export interface Tenant {
  id: string;
  hubspotPortalId: string | null;
  dataverseOrgUrl: string | null;
  mode: TenantMode;
  /** Off → events are still accepted and queued, nothing is written to either system. */
  mainSwitch: boolean;
  settings: TenantSettings;
  createdAt: number;
  updatedAt: number;
}

export interface TenantPatch {
  hubspotPortalId?: string | null;
  dataverseOrgUrl?: string | null;
  mode?: TenantMode;
  mainSwitch?: boolean;
  settings?: TenantSettings;
}

function toTenant(r: Selectable<TenantsTable>): Tenant {
  return {
    id: r.id,
    hubspotPortalId: r.hubspot_portal_id,
    dataverseOrgUrl: r.dataverse_org_url,
    mode: r.mode,
    mainSwitch: r.main_switch === 1,
    settings: JSON.parse(r.settings) as TenantSettings,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export class TenantsRepository {
  constructor(private readonly db: Kysely<Database>, private readonly clock: Clock) {}

  /** New tenants start in UAT with the main switch off: nothing syncs until someone has looked at the mapping. */
  async create(input: TenantPatch & { id?: string } = {}): Promise<Tenant> {
    const now = this.clock();
    const row = await this.db
      .insertInto('tenants')
      .values({
        id: input.id ?? randomUUID(),
        hubspot_portal_id: input.hubspotPortalId ?? null,
        dataverse_org_url: input.dataverseOrgUrl ?? null,
        mode: input.mode ?? 'uat',
        main_switch: input.mainSwitch ? 1 : 0,
        settings: JSON.stringify(input.settings ?? {}),
        created_at: now,
        updated_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toTenant(row);
  }

  async get(id: string): Promise<Tenant | undefined> {
    const row = await this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toTenant(row);
  }

  async findByPortalId(portalId: string): Promise<Tenant | undefined> {
    const row = await this.db.selectFrom('tenants').selectAll().where('hubspot_portal_id', '=', portalId).executeTakeFirst();
    return row && toTenant(row);
  }

  async list(): Promise<Tenant[]> {
    return (await this.db.selectFrom('tenants').selectAll().orderBy('created_at').execute()).map(toTenant);
  }

  async update(id: string, patch: TenantPatch): Promise<Tenant | undefined> {
    const row = await this.db
      .updateTable('tenants')
      .set({
        ...(patch.hubspotPortalId !== undefined && { hubspot_portal_id: patch.hubspotPortalId }),
        ...(patch.dataverseOrgUrl !== undefined && { dataverse_org_url: patch.dataverseOrgUrl }),
        ...(patch.mode !== undefined && { mode: patch.mode }),
        ...(patch.mainSwitch !== undefined && { main_switch: patch.mainSwitch ? 1 : 0 }),
        ...(patch.settings !== undefined && { settings: JSON.stringify(patch.settings) }),
        updated_at: this.clock(),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && toTenant(row);
  }

  /** Deletes the tenant and, by cascade, its secrets, links, shadows, inbox, jobs and errors (uninstall purge). */
  async delete(id: string): Promise<boolean> {
    const r = await this.db.deleteFrom('tenants').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
