import type { Link } from '../store/repositories/links.ts';
import { associationsToDynamics, type AssociatedRecord } from './rules/associations.ts';
import { gate } from './rules/gate.ts';
import { mapRecord } from './rules/mapping.ts';
import { normaliseDomain, normaliseEmail } from './rules/match.ts';
import { defaultMappings, pairById } from './rules/pairs.ts';
import { reportMappingProblems, SyncFailure } from './failures.ts';
import { loadShadow, sameAsShadow, saveShadow } from './shadow.ts';
import type { SyncRun } from './run.ts';
import type { DynamicsEntity } from './to-hubspot.ts';

/**
 * HubSpot → Dynamics for one record: re-read it, find its Dynamics side (link, match, or the tenant's
 * new-contact policy), gate, map, drop echoes, write (an upsert by our alternate key when creating, so a
 * repeated job never duplicates), remember what was written, and link associations as lookups.
 */

export type HubSpotSource = 'contacts' | 'companies' | 'deals';

const ENTITY_OF: Record<Exclude<HubSpotSource, 'contacts'>, DynamicsEntity> = { companies: 'account', deals: 'opportunity' };
const ASSOCIATED: Record<HubSpotSource, Array<'companies' | 'contacts'>> = { contacts: ['companies'], companies: [], deals: ['companies', 'contacts'] };
const odataString = (s: string) => `'${s.replace(/'/g, "''")}'`;

export async function syncFromHubSpot(run: SyncRun, object: HubSpotSource, id: string): Promise<{ entity: DynamicsEntity; id: string } | undefined> {
  const key = `hubspot:${object}:${id}`;
  if (run.visiting.has(key)) return undefined;
  run.visiting.add(key);

  const { ctx, store } = run;
  const tenantId = ctx.tenantId;
  const source = { system: 'hubspot' as const, objectType: object, recordId: id };
  let link = await store.links.findByHubSpot(tenantId, { object, id });

  // Every row that could apply, whichever Dynamics table the record ends up in.
  const candidates: DynamicsEntity[] = object === 'contacts' ? ['lead', 'contact'] : [ENTITY_OF[object]];
  const properties = [...new Set(candidates.flatMap((e) => defaultMappings(e, { prefix: ctx.settings.prefix }).map((r) => r.hubspot)).concat(['email', 'dynamics_id']))];
  const record = await ctx.hubspot.getObject(object, id, { properties });
  if (!record) {
    if (link) {
      await run.report(source, 'deleted_in_hubspot', `The HubSpot ${object} record was deleted`,
        `Dynamics ${link.dynamics.entity} ${link.dynamics.id} stays: the integration never deletes by default`,
        'Delete or deactivate the Dynamics record yourself if it should go too.');
    }
    return undefined;
  }
  const props = record.properties;

  let entity: DynamicsEntity = link ? (link.dynamics.entity as DynamicsEntity) : candidates[0];
  const decision = gate({ mainSwitch: ctx.mainSwitch, mode: ctx.mode, markers: ctx.settings.uatMarkers }, entity, 'toDynamics', props);
  if (decision.action === 'hold') throw run.hold(decision.reason);
  if (decision.action === 'skip') {
    run.logger.debug({ object, id, reason: decision.reason }, 'not in scope');
    return undefined;
  }

  let dynamicsId = link?.dynamics.id;
  if (!link) {
    const match = await matchInDynamics(run, object, id, props);
    if (match) {
      entity = match.entity;
      dynamicsId = match.id;
      link = await run.linkOrReuse(match, { object, id });
    } else if (object === 'contacts') {
      const policy = ctx.settings.newContactPolicy;
      if (policy === 'none') {
        run.logger.debug({ id }, 'new HubSpot contact not created in Dynamics (tenant policy: none)');
        return undefined;
      }
      entity = policy;
    }
  }

  const pair = pairById(entity);
  const rows = defaultMappings(pair.id, { prefix: ctx.settings.prefix });
  const metadata = await ctx.metadata(object, entity);
  const owners = ctx.settings.ownerSync ? await ctx.owners() : undefined;
  const mapped = mapRecord({
    way: 'toDynamics', rows, record: props, metadata, owners, ownerSync: ctx.settings.ownerSync,
    dynamics: { entity, recordId: dynamicsId, orgUrl: ctx.settings.dynamics!.orgUrl },
  });
  await store.errors.clear(tenantId, source);
  await reportMappingProblems(store, tenantId, source, 'Dynamics', mapped);

  const shadow = await loadShadow(store, tenantId, link?.id);
  const fields: Record<string, unknown> = {};
  const agreed: Array<{ side: 'hs' | 'dv'; field: string; value: unknown }> = [];
  let suppressed = 0;
  for (const row of rows) {
    const written = [row.dynamics, `${row.dynamics}@odata.bind`].find((k) => mapped.fields[k] !== undefined);
    if (!written) continue;
    const value = mapped.fields[written];
    if (link && sameAsShadow(shadow, 'hs', row.hubspot, props[row.hubspot])) { suppressed += 1; continue; }
    agreed.push({ side: 'hs', field: row.hubspot, value: props[row.hubspot] }, { side: 'dv', field: row.dynamics, value });
    if (link && sameAsShadow(shadow, 'dv', row.dynamics, value)) { suppressed += 1; continue; }
    fields[written] = value;
    // A status reason is only valid in its own state, so the state travels with it.
    if (row.dynamics === 'statuscode' && mapped.fields.statecode !== undefined) fields.statecode = mapped.fields.statecode;
  }
  if (suppressed > 0) run.metrics.echoesSuppressed.inc({ direction: 'toDynamics', layer: 'shadow' }, suppressed);

  const lookupFields = await lookups(run, object, id, entity, link);
  Object.assign(fields, lookupFields);
  for (const [field, value] of Object.entries(lookupFields)) agreed.push({ side: 'dv', field, value });

  const idColumn = `${ctx.settings.prefix}_hubspotid`;
  if (link && dynamicsId) {
    if (Object.keys(fields).length > 0) {
      await ctx.dynamics.update(entity, dynamicsId, fields);
      run.wrote('toDynamics', entity);
    }
  } else {
    if (entity === 'lead' && fields.subject === undefined) fields.subject = `HubSpot contact ${[props.firstname, props.lastname].filter(Boolean).join(' ') || props.email || id}`;
    await ctx.dynamics.upsertByKey(entity, { [idColumn]: id }, { ...fields, [idColumn]: id });
    run.wrote('toDynamics', entity);
    const created = await ctx.dynamics.retrieve(entity, { [idColumn]: id }, [pair.primaryId]);
    if (!created) throw new Error(`Dynamics ${entity} written by key ${idColumn}='${id}' could not be read back`);
    dynamicsId = String(created[pair.primaryId]).toLowerCase();
    link = await run.linkOrReuse({ entity, id: dynamicsId }, { object, id });
  }
  await saveShadow(store, tenantId, link!.id, 'to_dynamics', agreed);

  // The Dynamics side is shown on the HubSpot record (our link properties); written once per change of link.
  const linkProps = { dynamics_id: dynamicsId!, dynamics_entity: entity, dynamics_url: `${ctx.settings.dynamics!.orgUrl.replace(/\/+$/, '')}/main.aspx?etn=${entity}&id=${dynamicsId}&pagetype=entityrecord` };
  if (props.dynamics_id !== dynamicsId) {
    await ctx.hubspot.updateObject(object, id, linkProps);
    await saveShadow(store, tenantId, link!.id, 'to_hubspot', Object.entries(linkProps).map(([field, value]) => ({ side: 'hs' as const, field, value })));
  }
  return { entity, id: dynamicsId! };
}

async function matchInDynamics(run: SyncRun, object: HubSpotSource, id: string, props: Record<string, string | null>): Promise<{ entity: DynamicsEntity; id: string } | undefined> {
  const { ctx, store } = run;
  const find = async (entity: DynamicsEntity, filter: string, by: string) => {
    const pair = pairById(entity);
    const rows = await ctx.dynamics.retrieveAll(entity, { filter, select: [pair.primaryId], top: 5, annotations: false });
    const free: string[] = [];
    for (const r of rows) {
      const rid = String(r[pair.primaryId]).toLowerCase();
      const other = await store.links.findByDynamics(ctx.tenantId, { entity, id: rid });
      if (!other) free.push(rid);
    }
    if (free.length > 1) {
      throw new SyncFailure('ambiguous_match', `${free.length} Dynamics ${entity} records match HubSpot ${object} ${id} by ${by}`,
        `Merge the duplicate ${entity} records in Dynamics (HubSpot keeps one record per ${by.split(' ')[0]}), then change the HubSpot record again.`);
    }
    return free[0] ? { entity, id: free[0] } : undefined;
  };
  if (object === 'contacts') {
    const email = normaliseEmail(props.email);
    if (!email) return undefined;
    const byEmail = `emailaddress1 eq ${odataString(email)}`;
    return (await find('contact', byEmail, `email ${email}`)) ?? (await find('lead', `${byEmail} and statecode eq 0`, `email ${email}`));
  }
  if (object === 'companies') {
    const domain = normaliseDomain(props.domain ?? props.website);
    if (domain) {
      const rows = await ctx.dynamics.retrieveAll('account', { filter: `contains(websiteurl,${odataString(domain)})`, select: ['accountid', 'websiteurl'], top: 20, annotations: false });
      const exact = rows.filter((r) => normaliseDomain(r.websiteurl) === domain);
      const free = [];
      for (const r of exact) if (!(await store.links.findByDynamics(ctx.tenantId, { entity: 'account', id: String(r.accountid).toLowerCase() }))) free.push(String(r.accountid).toLowerCase());
      if (free.length > 1) throw new SyncFailure('ambiguous_match', `${free.length} Dynamics accounts have the domain ${domain}`, 'Merge the duplicate accounts in Dynamics, then change the HubSpot company again.');
      if (free.length === 1) return { entity: 'account', id: free[0] };
    }
    const name = props.name?.trim();
    return name ? find('account', `name eq ${odataString(name)}`, `name ${name}`) : undefined;
  }
  return undefined; // deals match only by their stored link
}

/** `@odata.bind` fields for the record's associations, syncing associated records that are not linked yet. */
async function lookups(run: SyncRun, object: HubSpotSource, id: string, entity: DynamicsEntity, link: Link | undefined): Promise<Record<string, string>> {
  const { ctx, store } = run;
  const kinds = ASSOCIATED[object];
  if (kinds.length === 0) return {};
  const associations: { companies?: AssociatedRecord[]; contacts?: AssociatedRecord[] } = {};
  for (const kind of kinds) {
    const list = await ctx.hubspot.getAssociations(object, id, kind);
    associations[kind] = list.map((a) => ({ id: a.toObjectId, typeIds: a.types.map((t) => t.typeId) }));
  }
  const linked = new Map<string, { entity: string; id: string }>();
  const plan = async () => {
    for (const kind of kinds) {
      for (const a of associations[kind] ?? []) {
        const l = await store.links.findByHubSpot(ctx.tenantId, { object: kind, id: a.id });
        if (l) linked.set(`${kind}:${a.id}`, l.dynamics);
      }
    }
    return associationsToDynamics({ entity, associations, dynamicsOf: (o, hid) => linked.get(`${o}:${hid}`) });
  };
  let result = await plan();
  if (result.dependencies.length > 0) {
    for (const dep of result.dependencies) await syncFromHubSpot(run, dep.object as HubSpotSource, dep.id);
    result = await plan();
  }
  for (const s of result.skipped) run.logger.info({ object, id, reason: s }, 'association not synced as a lookup');
  const shadow = await loadShadow(store, ctx.tenantId, link?.id);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.fields)) if (!sameAsShadow(shadow, 'dv', k, v)) out[k] = v;
  return out;
}
