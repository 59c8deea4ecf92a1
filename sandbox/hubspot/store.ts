import { HubSpotError, invalidPropertyValues, notFound, propertyValueError, validationError, type PropertyValueError } from './errors.ts';
import { defaultGroups, defaultProperties, DEFAULT_OWNERS } from './defaults.ts';
import { inverseTypeId, primaryTypeId, defaultTypeId, HUBSPOT_DEFINED } from './association-types.ts';
import { normaliseValue } from './values.ts';
import { checkEngagementCreate, createdProperty } from './activities.ts';
import {
  OBJECT_TYPES, TYPE_ID, type Actor, type CrmRecord, type ObjectType, type Owner, type PropertyDefinition, type PropertyGroup,
} from './types.ts';

/** What the store tells the webhook dispatcher; one value per observable change. */
export type ChangeEvent =
  | { kind: 'creation' | 'deletion'; type: ObjectType; id: string; actor: Actor; at: number }
  | { kind: 'propertyChange'; type: ObjectType; id: string; actor: Actor; at: number; name: string; value: string }
  | {
      kind: 'associationChange'; fromType: ObjectType; fromId: string; toType: ObjectType; toId: string;
      typeId: number; removed: boolean; actor: Actor; at: number;
    };

export type ChangeListener = (portal: Portal, event: ChangeEvent) => void;

const perType = <T>(make: (t: ObjectType) => T): Record<ObjectType, T> =>
  Object.fromEntries(OBJECT_TYPES.map((t) => [t, make(t)])) as Record<ObjectType, T>;

/**
 * Associations of one portal, both directions stored so reads from either side are a map lookup.
 * Key: `${type}:${id}` → toType → toId → set of association type ids.
 */
export class AssociationStore {
  private readonly edges = new Map<string, Map<ObjectType, Map<string, Set<number>>>>();

  private side(type: ObjectType, id: string, toType: ObjectType, create: boolean): Map<string, Set<number>> | undefined {
    const key = `${type}:${id}`;
    let byType = this.edges.get(key);
    if (!byType) {
      if (!create) return undefined;
      byType = new Map();
      this.edges.set(key, byType);
    }
    let byId = byType.get(toType);
    if (!byId && create) {
      byId = new Map();
      byType.set(toType, byId);
    }
    return byId;
  }

  private addOne(type: ObjectType, id: string, toType: ObjectType, toId: string, typeId: number): boolean {
    const byId = this.side(type, id, toType, true)!;
    let set = byId.get(toId);
    if (!set) byId.set(toId, (set = new Set()));
    if (set.has(typeId)) return false;
    set.add(typeId);
    return true;
  }

  private removeOne(type: ObjectType, id: string, toType: ObjectType, toId: string, typeId: number): boolean {
    const byId = this.side(type, id, toType, false);
    const set = byId?.get(toId);
    if (!set?.delete(typeId)) return false;
    if (set.size === 0) byId!.delete(toId);
    return true;
  }

  /** Adds the type and its inverse; true when it was new. */
  add(type: ObjectType, id: string, toType: ObjectType, toId: string, typeId: number): boolean {
    const added = this.addOne(type, id, toType, toId, typeId);
    this.addOne(toType, toId, type, id, inverseTypeId(typeId));
    return added;
  }

  remove(type: ObjectType, id: string, toType: ObjectType, toId: string, typeId: number): boolean {
    const removed = this.removeOne(type, id, toType, toId, typeId);
    this.removeOne(toType, toId, type, id, inverseTypeId(typeId));
    return removed;
  }

  types(type: ObjectType, id: string, toType: ObjectType, toId: string): number[] {
    return [...(this.side(type, id, toType, false)?.get(toId) ?? [])];
  }

  /** All associated ids of one type, in insertion order. */
  list(type: ObjectType, id: string, toType: ObjectType): Array<[string, Set<number>]> {
    return [...(this.side(type, id, toType, false) ?? new Map<string, Set<number>>())];
  }

  /** Drops every association of a deleted record (both directions). */
  removeRecord(type: ObjectType, id: string): void {
    const byType = this.edges.get(`${type}:${id}`);
    if (!byType) return;
    for (const [toType, byId] of byType) {
      for (const toId of byId.keys()) this.edges.get(`${toType}:${toId}`)?.get(type)?.delete(id);
    }
    this.edges.delete(`${type}:${id}`);
  }
}

export interface PortalUser {
  userId: number;
  email: string;
  ownerId: string;
}

export interface IdSource {
  recordId(): string;
  ownerId(): string;
  userId(): number;
}

/** One HubSpot account: its records, metadata, owners and associations. Nothing is shared between portals. */
export class Portal {
  readonly records = perType(() => new Map<string, CrmRecord>());
  readonly archivedRecords = perType(() => new Map<string, CrmRecord>());
  /** Ids in creation order (ids only grow), for `after` paging by binary search instead of a scan. */
  readonly order = perType((): number[] => []);
  readonly properties = perType(defaultProperties);
  readonly groups: Record<ObjectType, Map<string, PropertyGroup>> = perType(defaultGroups);
  /** Unique-value indexes: type → property → value (email lower-cased) → record id. */
  private readonly unique = perType(() => new Map<string, Map<string, string>>());
  readonly owners = new Map<string, Owner>();
  readonly associations = new AssociationStore();
  readonly user: PortalUser;
  readonly createdAt = Date.now();

  constructor(
    readonly portalId: number,
    private readonly ids: IdSource,
    private readonly emit: ChangeListener,
  ) {
    const now = new Date().toISOString();
    for (const person of DEFAULT_OWNERS) this.addOwner(person.firstName, person.lastName, person.email, now);
    const first = [...this.owners.values()][0];
    this.user = { userId: first.userId, email: first.email, ownerId: first.id };
  }

  addOwner(firstName: string, lastName: string, email: string, now = new Date().toISOString()): Owner {
    const userId = this.ids.userId();
    const owner: Owner = {
      id: this.ids.ownerId(), email, firstName, lastName, userId, userIdIncludingInactive: userId, type: 'PERSON',
      teams: [], createdAt: now, updatedAt: now, archived: false,
    };
    this.owners.set(owner.id, owner);
    return owner;
  }

  property(type: ObjectType, name: string): PropertyDefinition | undefined {
    const def = this.properties[type].get(name);
    return def && !def.archived ? def : undefined;
  }

  /** Validates a whole `properties` object; all errors are reported together, as HubSpot does. */
  normalise(type: ObjectType, input: unknown): Map<string, string> {
    if (input === undefined || input === null) return new Map();
    if (typeof input !== 'object' || Array.isArray(input)) throw validationError('properties must be an object of property name to value');
    const out = new Map<string, string>();
    const errors: PropertyValueError[] = [];
    for (const [name, raw] of Object.entries(input as Record<string, unknown>)) {
      const def = this.property(type, name);
      if (!def) {
        errors.push(propertyValueError(name, 'PROPERTY_DOESNT_EXIST', `Property "${name}" does not exist`));
        continue;
      }
      if (def.modificationMetadata.readOnlyValue) {
        errors.push(propertyValueError(name, 'READ_ONLY_VALUE', `${name} is a read only property; its value cannot be set.`));
        continue;
      }
      const result = normaliseValue(def, raw, (id) => this.owners.has(id));
      if (!result.ok) errors.push(result.error);
      else out.set(name, def.hasUniqueValue || name === 'email' ? result.value.toLowerCase() : result.value);
    }
    if (errors.length) throw invalidPropertyValues(errors);
    return out;
  }

  get(type: ObjectType, id: string): CrmRecord | undefined {
    return this.records[type].get(id);
  }

  mustGet(type: ObjectType, id: string): CrmRecord {
    const record = this.records[type].get(id);
    if (!record) throw notFound();
    return record;
  }

  /** Looks a record up by `idProperty` (email or another unique property), or by id. */
  findBy(type: ObjectType, idProperty: string | undefined, value: string): CrmRecord | undefined {
    if (!idProperty || idProperty === 'hs_object_id') return this.get(type, value);
    const def = this.property(type, idProperty);
    if (!def || !(def.hasUniqueValue || idProperty === 'email')) {
      throw validationError(`Property ${idProperty} is not a unique identifier property for ${type}`, { subCategory: 'INVALID_ID_PROPERTY' });
    }
    const id = this.unique[type].get(idProperty)?.get(value.trim().toLowerCase());
    return id === undefined ? undefined : this.get(type, id);
  }

  private uniqueClash(type: ObjectType, values: Map<string, string>, selfId?: string): { name: string; value: string; id: string } | undefined {
    for (const [name, value] of values) {
      if (value === '') continue;
      const def = this.property(type, name);
      if (!def?.hasUniqueValue) continue;
      const holder = this.unique[type].get(name)?.get(value);
      if (holder !== undefined && holder !== selfId) return { name, value, id: holder };
    }
    return undefined;
  }

  private index(type: ObjectType, record: CrmRecord, name: string, oldValue: string | undefined): void {
    if (!this.property(type, name)?.hasUniqueValue) return;
    let byValue = this.unique[type].get(name);
    if (!byValue) this.unique[type].set(name, (byValue = new Map()));
    if (oldValue) byValue.delete(oldValue);
    const value = record.properties.get(name);
    if (value) byValue.set(value, record.id);
  }

  /** Throws the duplicate error HubSpot gives on create: 409 "Contact already exists. Existing ID: N" for email. */
  checkCreate(type: ObjectType, values: Map<string, string>): void {
    checkEngagementCreate(type, values);
    const clash = this.uniqueClash(type, values);
    if (!clash) return;
    if (type === 'contacts' && clash.name === 'email') {
      throw new HubSpotError(409, 'CONFLICT', `Contact already exists. Existing ID: ${clash.id}`);
    }
    throw new HubSpotError(409, 'CONFLICT', `A ${type} record with ${clash.name}=${clash.value} already exists. Existing ID: ${clash.id}`);
  }

  /** On update HubSpot answers a unique-value clash with a 400, not a 409. */
  checkUpdate(type: ObjectType, id: string, values: Map<string, string>): void {
    const clash = this.uniqueClash(type, values, id);
    if (!clash) return;
    throw validationError(
      `Cannot set PropertyValueCoordinates{portalId=${this.portalId}, objectTypeId=OBJECT_TYPE_ID{id=${TYPE_ID[type]}}, ` +
        `objectId=${id}, propertyName=${clash.name}, value=${clash.value}} on ${id}. ${clash.id} already has that value.`,
    );
  }

  create(type: ObjectType, values: Map<string, string>, actor: Actor): CrmRecord {
    this.checkCreate(type, values);
    const now = Date.now();
    const id = this.ids.recordId();
    const iso = new Date(now).toISOString();
    const properties = new Map<string, string>();
    for (const [name, value] of values) if (value !== '') properties.set(name, value);
    if (!properties.has(createdProperty(type))) properties.set(createdProperty(type), iso);
    properties.set('hs_object_id', id);
    properties.set('hs_lastmodifieddate', iso);
    if (type === 'contacts') properties.set('lastmodifieddate', iso);
    if (type === 'deals' && !properties.has('pipeline')) properties.set('pipeline', 'default');
    const record: CrmRecord = { id, properties, createdAt: now, updatedAt: now, archived: false };
    this.records[type].set(id, record);
    this.order[type].push(Number(id));
    for (const name of properties.keys()) this.index(type, record, name, undefined);
    this.emit(this, { kind: 'creation', type, id, actor, at: now });
    for (const [name, value] of values) {
      if (value !== '') this.emit(this, { kind: 'propertyChange', type, id, actor, at: now, name, value });
    }
    return record;
  }

  /** Applies changed values only; an update that changes nothing leaves timestamps and webhooks alone. */
  update(type: ObjectType, record: CrmRecord, values: Map<string, string>, actor: Actor): CrmRecord {
    this.checkUpdate(type, record.id, values);
    const now = Date.now();
    const changed: Array<[string, string]> = [];
    for (const [name, value] of values) {
      const old = record.properties.get(name);
      if ((old ?? '') === value) continue;
      if (value === '') record.properties.delete(name);
      else record.properties.set(name, value);
      this.index(type, record, name, old);
      changed.push([name, value]);
    }
    if (changed.length === 0) return record;
    record.updatedAt = Math.max(now, record.updatedAt + 1);
    const iso = new Date(record.updatedAt).toISOString();
    record.properties.set('hs_lastmodifieddate', iso);
    if (type === 'contacts') record.properties.set('lastmodifieddate', iso);
    for (const [name, value] of changed) {
      this.emit(this, { kind: 'propertyChange', type, id: record.id, actor, at: record.updatedAt, name, value });
    }
    return record;
  }

  archive(type: ObjectType, id: string, actor: Actor): boolean {
    const record = this.records[type].get(id);
    if (!record) return false;
    this.records[type].delete(id);
    for (const [name, value] of record.properties) {
      if (this.property(type, name)?.hasUniqueValue) this.unique[type].get(name)?.delete(value);
    }
    this.associations.removeRecord(type, id);
    record.archived = true;
    record.archivedAt = Date.now();
    this.archivedRecords[type].set(id, record);
    this.emit(this, { kind: 'deletion', type, id, actor, at: record.archivedAt });
    return true;
  }

  /** Adds an association type (and its inverse); keeps one primary company per contact/deal. */
  associate(fromType: ObjectType, fromId: string, toType: ObjectType, toId: string, typeId: number, actor: Actor): boolean {
    const info = HUBSPOT_DEFINED.get(typeId);
    if (info?.primary) {
      // The owning side (contact/deal) may have only one primary company: moving it drops the old one.
      const [ownerType, ownerId, otherType, otherId, ownerTypeId] =
        info.from === fromType ? [fromType, fromId, toType, toId, typeId] : [toType, toId, fromType, fromId, info.inverse];
      for (const [existing, types] of this.associations.list(ownerType, ownerId, otherType)) {
        if (existing !== otherId && types.has(ownerTypeId)) this.dissociate(ownerType, ownerId, otherType, existing, ownerTypeId, actor);
      }
    }
    const added = this.associations.add(fromType, fromId, toType, toId, typeId);
    if (added) this.emit(this, { kind: 'associationChange', fromType, fromId, toType, toId, typeId, removed: false, actor, at: Date.now() });
    return added;
  }

  dissociate(fromType: ObjectType, fromId: string, toType: ObjectType, toId: string, typeId: number, actor: Actor): boolean {
    const removed = this.associations.remove(fromType, fromId, toType, toId, typeId);
    if (removed) this.emit(this, { kind: 'associationChange', fromType, fromId, toType, toId, typeId, removed: true, actor, at: Date.now() });
    return removed;
  }

  /**
   * HubSpot's "default" association: the unlabeled type, plus primary when the contact/deal has no primary
   * company yet (documented choice; HubSpot makes the first associated company primary).
   */
  associateDefault(fromType: ObjectType, fromId: string, toType: ObjectType, toId: string, actor: Actor): number[] {
    const unlabeled = defaultTypeId(fromType, toType);
    if (unlabeled === undefined) throw validationError(`No default association type between ${fromType} and ${toType}`);
    const typeIds = [unlabeled];
    this.associate(fromType, fromId, toType, toId, unlabeled, actor);
    const primary = primaryTypeId(fromType, toType);
    const reversePrimary = primaryTypeId(toType, fromType);
    if (primary !== undefined && HUBSPOT_DEFINED.get(primary)!.from === fromType && fromType !== 'companies') {
      if (!this.associations.list(fromType, fromId, toType).some(([, t]) => t.has(primary))) {
        this.associate(fromType, fromId, toType, toId, primary, actor);
        typeIds.push(primary);
      }
    } else if (reversePrimary !== undefined && toType !== 'companies') {
      // company → contact/deal: primary is judged from the contact's/deal's side.
      if (!this.associations.list(toType, toId, fromType).some(([, t]) => t.has(reversePrimary))) {
        const forward = inverseTypeId(reversePrimary);
        this.associate(fromType, fromId, toType, toId, forward, actor);
        typeIds.push(forward);
      }
    }
    return typeIds;
  }
}

