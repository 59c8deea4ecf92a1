import type { Kysely, Selectable } from 'kysely';
import type { Database, LinksTable } from '../schema.ts';
import type { Clock } from '../clock.ts';
import { isUniqueViolation } from '../database.ts';

export interface DynamicsRef {
  entity: string;
  id: string;
}
export interface HubSpotRef {
  object: string;
  id: string;
}

export interface Link {
  id: number;
  tenantId: string;
  dynamics: DynamicsRef;
  hubspot: HubSpotRef;
  createdAt: number;
  updatedAt: number;
}

/** Either side is already linked to another record. The sync reports this instead of creating a duplicate. */
export class LinkConflictError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LinkConflictError';
  }
}

function toLink(r: Selectable<LinksTable>): Link {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    dynamics: { entity: r.dynamics_entity, id: r.dynamics_id },
    hubspot: { object: r.hubspot_object, id: r.hubspot_id },
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function newRow(tenantId: string, p: { dynamics: DynamicsRef; hubspot: HubSpotRef }, now: number) {
  return {
    tenant_id: tenantId, dynamics_entity: p.dynamics.entity, dynamics_id: p.dynamics.id.toLowerCase(),
    hubspot_object: p.hubspot.object, hubspot_id: p.hubspot.id, created_at: now, updated_at: now,
  };
}

/**
 * Dynamics record ↔ HubSpot record, unique both ways per tenant. Dataverse ids are GUIDs whose case varies
 * between APIs, so they are stored lower-case.
 */
export class LinksRepository {
  constructor(private readonly db: Kysely<Database>, private readonly clock: Clock) {}

  async create(tenantId: string, dynamics: DynamicsRef, hubspot: HubSpotRef): Promise<Link> {
    const now = this.clock();
    try {
      const row = await this.db
        .insertInto('links')
        .values(newRow(tenantId, { dynamics, hubspot }, now))
        .returningAll()
        .executeTakeFirstOrThrow();
      return toLink(row);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      throw new LinkConflictError(
        `cannot link ${dynamics.entity} ${dynamics.id} to HubSpot ${hubspot.object} ${hubspot.id}: one of them is already linked to another record`,
        { cause: err },
      );
    }
  }

  /**
   * Links for a group of new pairs in one statement. A pair whose either side is already linked is skipped
   * (absent from the result): the caller settles those one by one with `create` and its conflict error.
   */
  async createMany(tenantId: string, pairs: Array<{ dynamics: DynamicsRef; hubspot: HubSpotRef }>): Promise<Link[]> {
    if (pairs.length === 0) return [];
    const now = this.clock();
    const rows = await this.db
      .insertInto('links')
      .values(pairs.map((p) => newRow(tenantId, p, now)))
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .execute();
    return rows.map(toLink);
  }

  async findByDynamics(tenantId: string, ref: DynamicsRef): Promise<Link | undefined> {
    const row = await this.db
      .selectFrom('links')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('dynamics_entity', '=', ref.entity)
      .where('dynamics_id', '=', ref.id.toLowerCase())
      .executeTakeFirst();
    return row && toLink(row);
  }

  /** Which of these HubSpot records are linked (one query for a group). */
  async linkedHubSpotIds(tenantId: string, object: string, ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db
      .selectFrom('links')
      .select('hubspot_id')
      .where('tenant_id', '=', tenantId)
      .where('hubspot_object', '=', object)
      .where('hubspot_id', 'in', [...new Set(ids)])
      .execute();
    return new Set(rows.map((r) => r.hubspot_id));
  }

  async findByHubSpot(tenantId: string, ref: HubSpotRef): Promise<Link | undefined> {
    const row = await this.db
      .selectFrom('links')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('hubspot_object', '=', ref.object)
      .where('hubspot_id', '=', ref.id)
      .executeTakeFirst();
    return row && toLink(row);
  }

  /**
   * Points the Dynamics side of a link at another record, keeping the link (and its shadows): lead
   * qualification turns the linked lead into a contact, and the HubSpot contact stays the same.
   */
  async moveDynamicsSide(tenantId: string, linkId: number, to: DynamicsRef): Promise<Link | undefined> {
    try {
      const row = await this.db
        .updateTable('links')
        .set({ dynamics_entity: to.entity, dynamics_id: to.id.toLowerCase(), updated_at: this.clock() })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', linkId)
        .returningAll()
        .executeTakeFirst();
      return row && toLink(row);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      throw new LinkConflictError(`cannot move link ${linkId} to ${to.entity} ${to.id}: that record is already linked`, { cause: err });
    }
  }

  async delete(tenantId: string, linkId: number): Promise<boolean> {
    const r = await this.db.deleteFrom('links').where('tenant_id', '=', tenantId).where('id', '=', linkId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async count(tenantId: string): Promise<number> {
    const r = await this.db.selectFrom('links').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
    return Number(r.n);
  }
}
