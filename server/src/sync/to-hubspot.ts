import type { Link } from '../store/repositories/links.ts';
import { associationsFromDynamics, DYNAMICS_LOOKUP_RULES } from './rules/associations.ts';
import { gate } from './rules/gate.ts';
import { mapRecord, LOOKUP_LOGICAL_NAME } from './rules/mapping.ts';
import { normaliseDomain, normaliseEmail } from './rules/match.ts';
import { defaultMappings, pairById, type PairId } from './rules/pairs.ts';
import { reportMappingProblems, SyncFailure } from './failures.ts';
import { loadShadow, sameAsShadow, saveShadow } from './shadow.ts';
import type { SyncRun } from './run.ts';

/**
 * Dynamics → HubSpot for one record: re-read it, gate, link or match, map, drop echoes, write, remember what
 * was written, then associations (linking the records it points to first).
 */

export type DynamicsEntity = 'lead' | 'contact' | 'account' | 'opportunity';
type HubSpotTarget = 'contacts' | 'companies' | 'deals';

const LEAD_QUALIFIED = 1;

export async function syncFromDynamics(run: SyncRun, entity: DynamicsEntity, id: string): Promise<string | undefined> {
  const key = `dynamics:${entity}:${id}`;
  if (run.visiting.has(key)) return undefined;
  run.visiting.add(key);

  const { ctx, store } = run;
  const tenantId = ctx.tenantId;
  const pair = pairById(entity as PairId);
  const target = pair.hubspotObject as HubSpotTarget;
  const source = { system: 'dynamics' as const, objectType: entity, recordId: id };

  const record = await ctx.dynamics.retrieve(entity, id);
  let link = await store.links.findByDynamics(tenantId, { entity, id });
  if (!record) {
    if (link) {
      await run.report(source, 'deleted_in_dynamics', `The Dynamics ${entity} was deleted`,
        `HubSpot ${target} ${link.hubspot.id} stays: the integration never deletes by default`,
        'Delete or archive the HubSpot record yourself if it should go too.');
    }
    return undefined;
  }

  // Lead qualification: the contact created from a linked lead takes over the lead's HubSpot contact.
  if (!link && entity === 'contact' && typeof record._originatingleadid_value === 'string') {
    const leadLink = await store.links.findByDynamics(tenantId, { entity: 'lead', id: record._originatingleadid_value.toLowerCase() });
    if (leadLink) link = await store.links.moveDynamicsSide(tenantId, leadLink.id, { entity: 'contact', id });
  }
  if (entity === 'lead' && record.statecode === LEAD_QUALIFIED) {
    const [contact] = await ctx.dynamics.retrieveAll('contact', { filter: `_originatingleadid_value eq ${id}`, select: ['contactid'], top: 1, annotations: false });
    if (contact) return syncFromDynamics(run, 'contact', String(contact.contactid).toLowerCase());
    if (!link) return undefined; // a qualified lead with no contact and no link has nothing to carry over
  }

  const decision = gate({ mainSwitch: ctx.mainSwitch, mode: ctx.mode, markers: ctx.settings.uatMarkers }, pair.id, 'toHubSpot', record);
  if (decision.action === 'hold') throw run.hold(decision.reason);
  if (decision.action === 'skip') {
    run.logger.debug({ entity, id, reason: decision.reason }, 'not in scope');
    return undefined;
  }

  const rows = defaultMappings(pair.id, { prefix: ctx.settings.prefix });
  let metadata = await ctx.metadata(target, entity);
  const owners = ctx.settings.ownerSync ? await ctx.owners() : undefined;
  const mapInput = { way: 'toHubSpot' as const, rows, record, owners, ownerSync: ctx.settings.ownerSync, dynamics: { entity, recordId: id, orgUrl: ctx.settings.dynamics!.orgUrl } };
  let mapped = mapRecord({ ...mapInput, metadata });
  if (mapped.addOptions.length > 0) {
    // Dynamics labels HubSpot lacks become new options (keeping the existing ones), then we map again.
    for (const a of mapped.addOptions) await ctx.hubspot.addEnumerationOption(target, a.property, a.label, a.value);
    metadata = await ctx.metadata(target, entity, { refresh: true });
    mapped = mapRecord({ ...mapInput, metadata });
  }
  await store.errors.clear(tenantId, source);
  await reportMappingProblems(store, tenantId, source, 'HubSpot', mapped);

  if (!link) link = await matchInHubSpot(run, entity, id, record, target);
  const shadow = await loadShadow(store, tenantId, link?.id);
  const fields: Record<string, string> = {};
  const agreed: Array<{ side: 'hs' | 'dv'; field: string; value: unknown }> = [];
  for (const row of rows) {
    const value = mapped.fields[row.hubspot];
    if (value === undefined) continue;
    const sourceValue = row.compute ? value : record[row.kind === 'owner' ? `_${row.dynamics}_value` : row.dynamics];
    if (link && sameAsShadow(shadow, 'dv', row.dynamics, sourceValue)) continue; // unchanged in Dynamics since we synced it
    agreed.push({ side: 'dv', field: row.dynamics, value: sourceValue }, { side: 'hs', field: row.hubspot, value });
    if (link && sameAsShadow(shadow, 'hs', row.hubspot, value)) continue; // HubSpot already has it
    fields[row.hubspot] = String(value);
  }
  const dropped = rows.filter((r) => mapped.fields[r.hubspot] !== undefined).length - Object.keys(fields).length;
  if (dropped > 0) run.metrics.echoesSuppressed.inc({ direction: 'toHubSpot', layer: 'shadow' }, dropped);

  let hubspotId: string;
  if (link) {
    hubspotId = link.hubspot.id;
    if (Object.keys(fields).length > 0) {
      await ctx.hubspot.updateObject(target, hubspotId, fields);
      run.wrote('toHubSpot', target);
    }
  } else {
    const [outcome] = await ctx.hubspot.batchUpsert(target, [{ id, idProperty: 'dynamics_id', properties: { ...fields, dynamics_id: id } }]);
    if (!outcome.ok) {
      const e = outcome.error;
      if (e.retryable) throw e;
      throw new SyncFailure('hubspot_rejected', `HubSpot refused the ${target} record: ${e.serviceMessage}`, 'Correct the Dynamics record (or the mapping) and save it again.');
    }
    hubspotId = outcome.id;
    run.wrote('toHubSpot', target);
    link = await run.linkOrReuse({ entity, id }, { object: target, id: hubspotId });
  }
  await saveShadow(store, tenantId, link.id, 'to_hubspot', agreed);

  // The HubSpot id goes into our alternate-key column, so HubSpot → Dynamics upserts find this record.
  const idColumn = `${ctx.settings.prefix}_hubspotid`;
  if (record[idColumn] !== hubspotId && (await ctx.metadata(target, entity)).dynamicsAttribute(idColumn)) {
    await ctx.dynamics.update(entity, id, { [idColumn]: hubspotId });
    await saveShadow(store, tenantId, link.id, 'to_dynamics', [{ side: 'dv', field: idColumn, value: hubspotId }]);
  }

  await associate(run, entity, record, hubspotId, link);
  return hubspotId;
}

async function matchInHubSpot(run: SyncRun, entity: DynamicsEntity, id: string, record: Record<string, unknown>, target: HubSpotTarget): Promise<Link | undefined> {
  const { ctx, store } = run;
  let candidates: Array<{ id: string }> = [];
  let by = '';
  if (entity === 'lead' || entity === 'contact') {
    const email = normaliseEmail(record.emailaddress1);
    if (!email) return undefined;
    const found = await ctx.hubspot.getObject('contacts', email, { idProperty: 'email', properties: ['email'] });
    candidates = found ? [found] : [];
    by = `email ${email}`;
  } else if (entity === 'account') {
    const domain = normaliseDomain(record.websiteurl);
    if (domain) {
      candidates = await ctx.hubspot.searchEquals('companies', 'domain', domain, ['domain', 'name']);
      by = `domain ${domain}`;
    }
    if (candidates.length === 0 && typeof record.name === 'string' && record.name.trim()) {
      candidates = await ctx.hubspot.searchEquals('companies', 'name', record.name.trim(), ['domain', 'name']);
      by = `name ${record.name.trim()}`;
    }
  }
  if (candidates.length === 0) return undefined;
  const free: Array<{ id: string }> = [];
  for (const c of candidates) {
    const other = await store.links.findByHubSpot(ctx.tenantId, { object: target, id: c.id });
    if (!other) free.push(c);
    else if (candidates.length === 1) {
      throw new SyncFailure('duplicate_in_dynamics',
        `HubSpot ${target} ${c.id} (matched by ${by}) is already linked to Dynamics ${other.dynamics.entity} ${other.dynamics.id}; a HubSpot record links to one Dynamics record`,
        `Merge the duplicate Dynamics records, or change the ${by.split(' ')[0]} of one of them.`);
    }
  }
  if (free.length > 1) {
    throw new SyncFailure('ambiguous_match', `${free.length} HubSpot ${target} match by ${by}`, 'Merge the duplicates in HubSpot, or make the match key unique, then save the Dynamics record again.');
  }
  if (free.length === 0) return undefined;
  run.logger.info({ entity, id, hubspotId: free[0].id, by }, 'matched existing HubSpot record');
  return run.linkOrReuse({ entity, id }, { object: target, id: free[0].id });
}

/** Creates the HubSpot associations for the record's lookups, syncing unlinked targets first. */
async function associate(run: SyncRun, entity: DynamicsEntity, record: Record<string, unknown>, hubspotId: string, link: Link): Promise<void> {
  const { ctx, store } = run;
  const known = new Map<string, string>();
  const resolve = async () => {
    for (const rule of DYNAMICS_LOOKUP_RULES) {
      if (rule.entity !== entity) continue;
      const ref = record[`_${rule.column}_value`];
      if (typeof ref !== 'string') continue;
      const target = (record[`_${rule.column}_value${LOOKUP_LOGICAL_NAME}`] as string | undefined) ?? rule.target;
      const l = await store.links.findByDynamics(ctx.tenantId, { entity: target, id: ref.toLowerCase() });
      if (l) known.set(`${target}:${ref.toLowerCase()}`, l.hubspot.id);
    }
    return associationsFromDynamics({ entity, record, hubspotId, hubspotIdOf: (e, i) => known.get(`${e}:${i.toLowerCase()}`) });
  };
  let plan = await resolve();
  if (plan.dependencies.length > 0) {
    for (const dep of plan.dependencies) await syncFromDynamics(run, dep.object as DynamicsEntity, dep.id);
    plan = await resolve();
    for (const dep of plan.dependencies) {
      await run.report({ system: 'dynamics', objectType: entity, recordId: link.dynamics.id }, 'association_pending',
        'An association was not created in HubSpot', dep.reason, 'Make sure the related record can sync (see its own sync errors); the association follows on its next change.');
    }
  }
  if (plan.associations.length === 0) return;
  // Only write when the set of associations changed since the last sync.
  const shadow = await loadShadow(store, ctx.tenantId, link.id);
  const value = plan.associations.map((a) => `${a.toObjectType}:${a.toId}`).sort();
  if (sameAsShadow(shadow, 'hs', '(associations)', value)) return;
  const byPair = new Map<string, Array<{ fromId: string; toId: string }>>();
  for (const a of plan.associations) {
    const k = `${a.fromObjectType}>${a.toObjectType}`;
    byPair.set(k, [...(byPair.get(k) ?? []), { fromId: a.fromId, toId: a.toId }]);
  }
  for (const [k, pairs] of byPair) {
    const [from, to] = k.split('>');
    const { errors } = await ctx.hubspot.associateDefault(from, to, pairs);
    if (errors.length > 0) throw errors[0];
  }
  await saveShadow(store, ctx.tenantId, link.id, 'to_hubspot', [{ side: 'hs', field: '(associations)', value }]);
}
