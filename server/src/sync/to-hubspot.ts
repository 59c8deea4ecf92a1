import type { ConnectorError } from '../connectors/errors.ts';
import type { BatchOutcome } from '../connectors/hubspot/types.ts';
import { LinkConflictError, type Link } from '../store/repositories/links.ts';
import { associationsFromDynamics, DYNAMICS_LOOKUP_RULES } from './rules/associations.ts';
import { gate } from './rules/gate.ts';
import { mapRecord, LOOKUP_LOGICAL_NAME } from './rules/mapping.ts';
import { normaliseDomain, normaliseEmail } from './rules/match.ts';
import { defaultMappings, pairById, type PairId } from './rules/pairs.ts';
import { mappingProblems, SyncFailure } from './failures.ts';
import { GroupOutcomes, type Outcome } from './group.ts';
import { attachLinks, writeLinkFields } from './links.ts';
import { linkedByValue, loadShadow, sameAsShadow, saveShadow, saveShadows } from './shadow.ts';
import type { SyncRun } from './run.ts';

/**
 * Dynamics → HubSpot. Records of one table are synced as a group: one read for all of them; then per record
 * gate, link or match, map and drop echoes; then one HubSpot batch call per kind of write (up to 100 records
 * each), link and shadow, our id column written back to Dynamics in one `$batch`, and associations (linking
 * the records they point to first). One record failing does not hold up the others.
 */

export type DynamicsEntity = 'lead' | 'contact' | 'account' | 'opportunity';
type HubSpotTarget = 'contacts' | 'companies' | 'deals';

type Agreed = Array<{ side: 'hs' | 'dv'; field: string; value: unknown }>;

/** How the HubSpot side of an unlinked record is found: HubSpot matches or creates by this unique property. */
interface UpsertKey {
  idProperty: 'email' | 'dynamics_id';
  value: string;
}

/** One record, read, gated and mapped, ready to be written. */
interface Plan {
  id: string;
  record: Record<string, unknown>;
  link: Link | undefined;
  fields: Record<string, string>;
  agreed: Agreed;
  /** Unlinked records only. */
  upsert?: UpsertKey;
  hubspotId?: string;
}

const LEAD_QUALIFIED = 1;

/** One record (the worker's single jobs, and dependencies met while syncing another record). */
export async function syncFromDynamics(run: SyncRun, entity: DynamicsEntity, id: string): Promise<string | undefined> {
  const [outcome] = await syncGroupFromDynamics(run, entity, [id]);
  if (!outcome.ok) throw outcome.error;
  return outcome.linked;
}

/** Records of one table; one outcome per id, the linked record being the HubSpot id. */
export async function syncGroupFromDynamics(run: SyncRun, entity: DynamicsEntity, ids: string[]): Promise<Outcome<string>[]> {
  const { ctx, store } = run;
  const target = pairById(entity as PairId).hubspotObject as HubSpotTarget;
  const group = new GroupOutcomes<string>(run, `dynamics:${entity}`, ids);
  const fail = (p: Plan, error: unknown) => group.fail(p.id, error);

  const records = group.fresh.length > 0 ? await ctx.dynamics.retrieveByIds(entity, group.fresh) : new Map<string, Record<string, unknown>>();
  const plans: Plan[] = [];
  for (const id of group.fresh) {
    await group.attempt(id, async () => {
      const prepared = await prepare(run, entity, id, records.get(id) ?? null);
      if ('done' in prepared) group.succeed(id, prepared.done);
      else plans.push(prepared);
    });
  }
  await run.saveRecordProblems();

  // Two new records with one e-mail cannot share an upsert: the later ones run alone afterwards, when the
  // first one's link exists, and get the duplicate error a single record would get.
  const seen = new Set<string>();
  const later: Plan[] = [];
  const now = plans.filter((p) => {
    if (!p.upsert) return true;
    const k = `${p.upsert.idProperty}=${p.upsert.value}`;
    if (!seen.has(k)) return seen.add(k);
    later.push(p);
    return false;
  });

  await writeToHubSpot(run, target, now, fail);
  const written = now.filter((p) => p.hubspotId !== undefined && !group.settled(p.id));
  await attachLinks(run, written, (p) => ({ dynamics: { entity, id: p.id }, hubspot: { object: target, id: p.hubspotId! } }),
    (p) => linkNew(run, entity, p.id, target, p.hubspotId!), fail);
  const linked = written.filter((p) => !group.settled(p.id));
  await saveShadows(store, ctx.tenantId, 'to_hubspot', linked.map((p) => ({ linkId: p.link!.id, entries: p.agreed })));
  await writeIdColumn(run, entity, target, linked, fail);
  for (const p of linked) {
    if (group.settled(p.id)) continue;
    await group.attempt(p.id, async () => {
      await associate(run, entity, p.record, p.hubspotId!, p.link!);
      group.succeed(p.id, p.hubspotId);
    });
  }
  for (const p of later) {
    group.unvisit(p.id);
    await group.attempt(p.id, async () => group.succeed(p.id, await syncFromDynamics(run, entity, p.id)));
  }
  return group.results();
}

/** Everything before the write for one record; `done` when nothing is to be written for it here. */
async function prepare(run: SyncRun, entity: DynamicsEntity, id: string, record: Record<string, unknown> | null): Promise<Plan | { done: string | undefined }> {
  const { ctx, store } = run;
  const tenantId = ctx.tenantId;
  const pair = pairById(entity as PairId);
  const target = pair.hubspotObject as HubSpotTarget;
  const source = { system: 'dynamics' as const, objectType: entity, recordId: id };

  let link = await store.links.findByDynamics(tenantId, { entity, id });
  if (!record) {
    if (link) {
      await run.report(source, 'deleted_in_dynamics', `The Dynamics ${entity} was deleted`,
        `HubSpot ${target} ${link.hubspot.id} stays: the integration never deletes by default`,
        'Delete or archive the HubSpot record yourself if it should go too.');
    }
    return { done: undefined };
  }

  // Lead qualification: the contact created from a linked lead takes over the lead's HubSpot contact.
  if (!link && entity === 'contact' && typeof record._originatingleadid_value === 'string') {
    const leadLink = await store.links.findByDynamics(tenantId, { entity: 'lead', id: record._originatingleadid_value.toLowerCase() });
    if (leadLink) link = await store.links.moveDynamicsSide(tenantId, leadLink.id, { entity: 'contact', id });
  }
  if (entity === 'lead' && record.statecode === LEAD_QUALIFIED) {
    const [contact] = await ctx.dynamics.retrieveAll('contact', { filter: `_originatingleadid_value eq ${id}`, select: ['contactid'], top: 1, annotations: false });
    if (contact) return { done: await syncFromDynamics(run, 'contact', String(contact.contactid).toLowerCase()) };
    if (!link) return { done: undefined }; // a qualified lead with no contact and no link has nothing to carry over
  }

  const decision = gate({ mainSwitch: ctx.mainSwitch, mode: ctx.mode, markers: ctx.settings.uatMarkers }, pair.id, 'toHubSpot', record);
  if (decision.action === 'hold') throw run.hold(decision.reason);
  if (decision.action === 'skip') {
    run.logger.debug({ entity, id, reason: decision.reason }, 'not in scope');
    return { done: undefined };
  }

  const rows = defaultMappings(pair.id, { prefix: ctx.settings.prefix });
  let metadata = await ctx.metadata(target, entity);
  const owners = ctx.settings.ownerSync ? await ctx.owners() : undefined;
  const mapInput = { way: 'toHubSpot' as const, rows, record, owners, ownerSync: ctx.settings.ownerSync, integrationUserId: ctx.settings.dynamics?.applicationUserId, dynamics: { entity, recordId: id, orgUrl: ctx.settings.dynamics!.orgUrl } };
  let mapped = mapRecord({ ...mapInput, metadata });
  if (mapped.addOptions.length > 0) {
    // Dynamics labels HubSpot lacks become new options (keeping the existing ones), then we map again.
    for (const a of mapped.addOptions) await ctx.hubspot.addEnumerationOption(target, a.property, a.label, a.value);
    metadata = await ctx.metadata(target, entity, { refresh: true });
    mapped = mapRecord({ ...mapInput, metadata });
  }
  run.freshProblems(source, mappingProblems(source, 'HubSpot', mapped));

  let upsert: UpsertKey | undefined;
  if (!link) {
    const side = await findHubSpotSide(run, entity, id, record, target);
    if ('idProperty' in side) upsert = side;
    else link = side;
  }
  const shadow = await loadShadow(store, tenantId, link?.id);
  const fields: Record<string, string> = {};
  const agreed: Agreed = [];
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
  return { id, record, link, fields, agreed, upsert, hubspotId: link?.hubspot.id };
}

/**
 * An unlinked record's HubSpot side. Leads and contacts are upserted by e-mail, which is HubSpot's own match:
 * it updates the contact holding that e-mail or creates one, in the same call as the write. That is only safe
 * when no linked contact holds the e-mail (a HubSpot contact links to one Dynamics record), which the shadows
 * answer without a HubSpot call; otherwise HubSpot is read first. Accounts are matched by domain, then name.
 */
async function findHubSpotSide(run: SyncRun, entity: DynamicsEntity, id: string, record: Record<string, unknown>, target: HubSpotTarget): Promise<Link | UpsertKey> {
  if (entity === 'lead' || entity === 'contact') {
    const email = normaliseEmail(record.emailaddress1);
    if (email) {
      const held = await linkedByValue(run.store, run.ctx.tenantId, 'contacts', 'hs:email', [email]);
      if (held.has(email)) {
        const link = await matchInHubSpot(run, entity, id, record, target);
        if (link) return link;
      }
      return { idProperty: 'email', value: email };
    }
  } else if (entity === 'account') {
    const link = await matchInHubSpot(run, entity, id, record, target);
    if (link) return link;
  }
  return { idProperty: 'dynamics_id', value: id };
}

/** Sends the group's writes: updates of linked records in one batch, new ones in one upsert per unique property. */
async function writeToHubSpot(run: SyncRun, target: HubSpotTarget, plans: Plan[], fail: (p: Plan, error: unknown) => void): Promise<void> {
  const { hubspot } = run.ctx;
  const send = async (group: Plan[], call: (group: Plan[]) => Promise<BatchOutcome[]>) => {
    if (group.length === 0) return;
    let results: BatchOutcome[];
    try {
      results = await call(group);
    } catch (error) {
      for (const p of group) fail(p, error);
      return;
    }
    results.forEach((r, i) => {
      if (!r.ok) return fail(group[i], rejected(r.error, target));
      group[i].hubspotId = r.id;
      run.wrote('toHubSpot', target);
    });
  };
  const changed = plans.filter((p) => p.link && Object.keys(p.fields).length > 0);
  await send(changed, (g) => hubspot.batchUpdate(target, g.map((p) => ({ id: p.link!.hubspot.id, properties: p.fields }))));
  for (const idProperty of ['email', 'dynamics_id'] as const) {
    const fresh = plans.filter((p) => p.upsert?.idProperty === idProperty);
    await send(fresh, (g) => hubspot.batchUpsert(target, g.map((p) => ({ id: p.upsert!.value, idProperty, properties: { ...p.fields, dynamics_id: p.id } }))));
  }
}

function rejected(error: ConnectorError, target: HubSpotTarget): unknown {
  if (error.retryable || error.kind === 'auth') return error;
  return new SyncFailure('hubspot_rejected', `HubSpot refused the ${target} record: ${error.serviceMessage}`, 'Correct the Dynamics record (or the mapping) and save it again.');
}

/** Links a record HubSpot just matched or created. */
async function linkNew(run: SyncRun, entity: DynamicsEntity, id: string, target: HubSpotTarget, hubspotId: string): Promise<Link> {
  try {
    return await run.linkOrReuse({ entity, id }, { object: target, id: hubspotId });
  } catch (err) {
    if (!(err instanceof LinkConflictError)) throw err;
    // Only when the HubSpot record took its e-mail after we last synced it (a change not synced yet).
    const other = await run.store.links.findByHubSpot(run.ctx.tenantId, { object: target, id: hubspotId });
    throw new SyncFailure('duplicate_in_dynamics',
      `HubSpot ${target} ${hubspotId} has the same e-mail and is already linked to Dynamics ${other?.dynamics.entity ?? 'record'} ${other?.dynamics.id ?? ''}; a HubSpot record links to one Dynamics record`,
      'Merge the duplicate Dynamics records, or change the e-mail of one of them.');
  }
}

/** The HubSpot id goes into our alternate-key column, so HubSpot → Dynamics upserts find the record; one `$batch` for the group. */
async function writeIdColumn(run: SyncRun, entity: DynamicsEntity, target: HubSpotTarget, plans: Plan[], fail: (p: Plan, error: unknown) => void): Promise<void> {
  const { ctx } = run;
  const idColumn = `${ctx.settings.prefix}_hubspotid`;
  const due = plans.filter((p) => p.record[idColumn] !== p.hubspotId);
  if (due.length === 0 || !(await ctx.metadata(target, entity)).dynamicsAttribute(idColumn)) return;
  await writeLinkFields(run, 'to_dynamics', due, (d) => ctx.dynamics.executeBatch(d.map((p) => ({ op: 'update', entity, id: p.id, data: { [idColumn]: p.hubspotId } }))),
    (p) => [{ side: 'dv', field: idColumn, value: p.hubspotId }], fail);
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
