import { ConnectorError } from '../errors.ts';
import type { HubSpotCaller } from './client.ts';
import type { EnumerationOption, HubSpotObjectType, HubSpotProperty, PropertyDefinition } from './types.ts';

type RawProperty = {
  name: string; label: string; type: string; fieldType: string; groupName: string; hasUniqueValue?: boolean; calculated?: boolean;
  hubspotDefined?: boolean; options?: Array<{ label: string; value: string; displayOrder?: number; hidden?: boolean; description?: string }>;
  modificationMetadata?: { readOnlyValue?: boolean; readOnlyOptions?: boolean };
};

function toProperty(p: RawProperty): HubSpotProperty {
  return {
    name: p.name, label: p.label, type: p.type, fieldType: p.fieldType, groupName: p.groupName, hasUniqueValue: p.hasUniqueValue,
    calculated: p.calculated, hubspotDefined: p.hubspotDefined,
    readOnlyValue: p.modificationMetadata?.readOnlyValue, readOnlyOptions: p.modificationMetadata?.readOnlyOptions,
    options: (p.options ?? []).map((o) => ({ label: o.label, value: o.value, displayOrder: o.displayOrder, hidden: o.hidden ?? false, description: o.description })),
  };
}

/**
 * Property metadata per object type, cached because the dropdown logic reads it for every record; it is
 * refreshed explicitly (after we add an option, or when a sync meets an option it does not know).
 */
export class PropertyCatalog {
  private readonly cache = new Map<string, Promise<Map<string, HubSpotProperty>>>();

  constructor(private readonly caller: HubSpotCaller) {}

  all(objectType: HubSpotObjectType, refresh: boolean): Promise<Map<string, HubSpotProperty>> {
    let hit = this.cache.get(objectType);
    if (!hit || refresh) {
      hit = this.load(objectType);
      this.cache.set(objectType, hit);
      hit.catch(() => this.cache.get(objectType) === hit && this.cache.delete(objectType));
    }
    return hit;
  }

  async refresh(objectType?: HubSpotObjectType): Promise<void> {
    if (!objectType) {
      this.cache.clear();
      return;
    }
    await this.all(objectType, true);
  }

  private async load(objectType: HubSpotObjectType): Promise<Map<string, HubSpotProperty>> {
    const res = await this.caller.call(`read property definitions of ${objectType}`, undefined, (client) => client.crm.properties.coreApi.getAll(objectType));
    return new Map(res.results.map((p) => [p.name, toProperty(p as unknown as RawProperty)]));
  }

  /**
   * Adds `label`/`value` to an enumeration unless an option with that label or value exists. HubSpot's PATCH
   * replaces the whole option list, so the current list is read fresh (not from the cache, which may miss
   * options someone added meanwhile) and sent back complete with the new option appended.
   */
  async addOption(objectType: HubSpotObjectType, name: string, label: string, value: string): Promise<EnumerationOption> {
    const record = `${objectType}.${name}`;
    const current = toProperty((await this.caller.call('read property definition', record, (client) =>
      client.crm.properties.coreApi.getByName(objectType, name))) as unknown as RawProperty);
    const existing = current.options.find((o) => o.label === label || o.value === value);
    if (existing) return existing;
    if (current.type !== 'enumeration') {
      throw new ConnectorError({ system: 'hubspot', operation: 'add dropdown option', record, status: 400, serviceMessage: `property type is ${current.type}, not a dropdown (enumeration)` });
    }
    if (current.readOnlyOptions) {
      throw new ConnectorError({ system: 'hubspot', operation: 'add dropdown option', record, status: 400, serviceMessage: `HubSpot does not allow adding options to this property; add "${label}" in HubSpot or map the value` });
    }
    const order = Math.max(-1, ...current.options.map((o) => o.displayOrder ?? -1)) + 1;
    const added: EnumerationOption = { label, value, displayOrder: order, hidden: false };
    const options = [...current.options, added].map((o) => ({ label: o.label, value: o.value, displayOrder: o.displayOrder, hidden: o.hidden ?? false, ...(o.description ? { description: o.description } : {}) }));
    const updated = await this.caller.call('add dropdown option', `${record} "${label}"`, (client) =>
      client.crm.properties.coreApi.update(objectType, name, { options } as never));
    // Keep the cached catalog in step without a full reload.
    const cached = this.cache.get(objectType);
    if (cached) {
      const map = await cached.catch(() => undefined);
      map?.set(name, toProperty(updated as unknown as RawProperty));
    }
    return added;
  }

  /** Creates the property group and any of `defs` that do not exist yet; safe to run on every connect. */
  async ensure(objectType: HubSpotObjectType, group: { name: string; label: string }, defs: PropertyDefinition[]): Promise<{ groupCreated: boolean; created: string[] }> {
    const groups = await this.caller.call(`read property groups of ${objectType}`, undefined, (client) => client.crm.properties.groupsApi.getAll(objectType));
    let groupCreated = false;
    if (!groups.results.some((g) => g.name === group.name)) {
      await this.ignoreConflict(() => this.caller.call('create property group', `${objectType}.${group.name}`, (client) =>
        client.crm.properties.groupsApi.create(objectType, { name: group.name, label: group.label })));
      groupCreated = true;
    }
    const existing = await this.all(objectType, true);
    const created: string[] = [];
    for (const def of defs) {
      if (existing.has(def.name)) continue;
      await this.ignoreConflict(() => this.caller.call('create property', `${objectType}.${def.name}`, (client, ctx) => {
        ctx.status = 201;
        return client.crm.properties.coreApi.create(objectType, {
          name: def.name, label: def.label, type: def.type, fieldType: def.fieldType, groupName: def.groupName ?? group.name,
          description: def.description, hasUniqueValue: def.hasUniqueValue, formField: def.formField ?? false,
          options: (def.options ?? []).map((o, i) => ({ label: o.label, value: o.value, displayOrder: o.displayOrder ?? i, hidden: o.hidden ?? false })),
        } as never);
      }));
      created.push(def.name);
    }
    if (created.length) await this.all(objectType, true);
    return { groupCreated, created };
  }

  /** Another server process may have created it a moment ago: a 409 means "exists", which is the goal. */
  private async ignoreConflict(run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
    } catch (err) {
      if (!(err instanceof ConnectorError && err.status === 409)) throw err;
    }
  }
}
