import type { BatchItemResult, DataverseWrite } from '../connectors/dataverse/batch.ts';
import type { Link } from '../store/repositories/links.ts';
import { associationsToDynamics, type AssociatedRecord } from './rules/associations.ts';
import { gate } from './rules/gate.ts';
import { mapRecord } from './rules/mapping.ts';
import { normaliseDomain, normaliseEmail } from './rules/match.ts';
import { defaultMappings, pairById } from './rules/pairs.ts';
import { mappingProblems, SyncFailure } from './failures.ts';
import { GroupOutcomes, type Outcome } from './group.ts';
import { attachLinks, writeLinkFields } from './links.ts';
import { loadShadow, sameAsShadow, saveShadows, type ShadowHashes } from './shadow.ts';
import type { SyncRun } from './run.ts';
import type { DynamicsEntity } from './to-hubspot.ts';

/**
 * HubSpot → Dynamics. Records of one object are synced as a group: one batch read of the records and one of
 * each kind of association; then per record find its Dynamics side (link, match, or the tenant's new-contact
 * policy), gate, map and drop echoes; then one `$batch` with every write (an upsert by our alternate key when
 * creating, so a repeated job never duplicates); link and shadow; and our link properties back on the HubSpot
 * records in one batch update. One record failing does not hold up the others.
 */

export type HubSpotSource = 'contacts' | 'companies' | 'deals';
type DynamicsRecordRef = { entity: DynamicsEntity; id: string };

type Associations = { companies?: AssociatedRecord[]; contacts?: AssociatedRecord[] };
type Agreed = Array<{ side: 'hs' | 'dv'; field: string; value: unknown }>;

/** One record, read, gated and mapped, ready to be written. */
interface Plan {
  id: string;
  props: Record<string, string | null>;
  entity: DynamicsEntity;
  link: Link | undefined;
  fields: Record<string, unknown>;
  agreed: Agreed;
  dynamicsId?: string;
}

const ENTITY_OF: Record<Exclude<HubSpotSource, 'contacts'>, DynamicsEntity> = { companies: 'account', deals: 'opportunity' };
const ASSOCIATED: Record<HubSpotSource, Array<'companies' | 'contacts'>> = { contacts: ['companies'], companies: [], deals: ['companies', 'contacts'] };
const odataString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** One record (dependencies met while syncing another record use this too). */
export async function syncFromHubSpot(run: SyncRun, object: HubSpotSource, id: string): Promise<DynamicsRecordRef | undefined> {
  const [outcome] = await syncGroupFromHubSpot(run, object, [id]);
  if (!outcome.ok) throw outcome.error;
  return outcome.linked;
}

/** Records of one object; one outcome per id, the linked record being the Dynamics one. */
export async function syncGroupFromHubSpot(run: SyncRun, object: HubSpotSource, ids: string[]): Promise<Outcome<DynamicsRecordRef>[]> {
  const { ctx, store } = run;
  const group = new GroupOutcomes<DynamicsRecordRef>(run, `hubspot:${object}`, ids);
  const fail = (p: Plan, error: unknown) => group.fail(p.id, error);
  const { fresh } = group;

  // Every row that could apply, whichever Dynamics table the record ends up in.
  const candidates: DynamicsEntity[] = object === 'contacts' ? ['lead', 'contact'] : [ENTITY_OF[object]];
  const properties = [...new Set(candidates.flatMap((e) => defaultMappings(e, { prefix: ctx.settings.prefix }).map((r) => r.hubspot)).concat(['email', 'dynamics_id']))];
  const records = new Map<string, Record<string, string | null>>();
  if (fresh.length > 0) for (const r of (await ctx.hubspot.batchRead(object, fresh, properties)).records) records.set(r.id, r.properties);
  const associations = new Map<string, Associations>();
  const existing = fresh.filter((id) => records.has(id));
  for (const kind of existing.length > 0 ? ASSOCIATED[object] : []) {
    for (const [id, list] of await ctx.hubspot.batchGetAssociations(object, kind, existing)) {
      associations.set(id, { ...associations.get(id), [kind]: list.map((a) => ({ id: a.toObjectId, typeIds: a.types.map((t) => t.typeId) })) });
    }
  }

  // New contacts are matched by e-mail; the candidates for the whole group are read at once.
  const unlinkedEmails: string[] = [];
  if (object === 'contacts') {
    const linked = await store.links.linkedHubSpotIds(ctx.tenantId, object, existing);
    for (const id of existing) {
      const email = normaliseEmail(records.get(id)!.email);
      if (email && !linked.has(id)) unlinkedEmails.push(email);
    }
  }
  const emailMatches = unlinkedEmails.length > 0 ? await contactsByEmail(run, unlinkedEmails) : new Map();

  const plans: Plan[] = [];
  for (const id of fresh) {
    await group.attempt(id, async () => {
      const prepared = await prepare(run, object, id, records.get(id) ?? null, associations.get(id) ?? {}, emailMatches);
      if ('done' in prepared) group.succeed(id, prepared.done);
      else plans.push(prepared);
    });
  }
  await run.saveRecordProblems();

  await writeToDynamics(run, plans, fail);
  const written = plans.filter((p) => p.dynamicsId !== undefined && !group.settled(p.id));
  const pair = (p: Plan) => ({ dynamics: { entity: p.entity, id: p.dynamicsId! }, hubspot: { object, id: p.id } });
  await attachLinks(run, written, pair, (p) => { const { dynamics, hubspot } = pair(p); return run.linkOrReuse(dynamics, hubspot); }, fail);
  const linked = written.filter((p) => !group.settled(p.id));
  await saveShadows(store, ctx.tenantId, 'to_dynamics', linked.map((p) => ({ linkId: p.link!.id, entries: p.agreed })));
  await writeLinkProperties(run, object, linked, fail);
  for (const p of linked) if (!group.settled(p.id)) group.succeed(p.id, { entity: p.entity, id: p.dynamicsId! });
  return group.results();
}

/** Everything before the write for one record; `done` when nothing is to be written for it here. */
async function prepare(run: SyncRun, object: HubSpotSource, id: string, props: Record<string, string | null> | null, associations: Associations, emailMatches: EmailMatches): Promise<Plan | { done: DynamicsRecordRef | undefined }> {
  const { ctx, store } = run;
  const tenantId = ctx.tenantId;
  const source = { system: 'hubspot' as const, objectType: object, recordId: id };
  let link = await store.links.findByHubSpot(tenantId, { object, id });
  if (!props) {
    if (link) {
      await run.report(source, 'deleted_in_hubspot', `The HubSpot ${object} record was deleted`,
        `Dynamics ${link.dynamics.entity} ${link.dynamics.id} stays: the integration never deletes by default`,
        'Delete or deactivate the Dynamics record yourself if it should go too.');
    }
    return { done: undefined };
  }

  let entity: DynamicsEntity = link ? (link.dynamics.entity as DynamicsEntity) : object === 'contacts' ? 'lead' : ENTITY_OF[object];
  const decision = gate({ mainSwitch: ctx.mainSwitch, mode: ctx.mode, markers: ctx.settings.uatMarkers }, entity, 'toDynamics', props);
  if (decision.action === 'hold') throw run.hold(decision.reason);
  if (decision.action === 'skip') {
    run.logger.debug({ object, id, reason: decision.reason }, 'not in scope');
    return { done: undefined };
  }

  let dynamicsId = link?.dynamics.id;
  if (!link) {
    const match = await matchInDynamics(run, object, id, props, emailMatches);
    if (match) {
      entity = match.entity;
      dynamicsId = match.id;
      link = await run.linkOrReuse(match, { object, id });
    } else if (object === 'contacts') {
      const policy = ctx.settings.newContactPolicy;
      if (policy === 'none') {
        run.logger.debug({ id }, 'new HubSpot contact not created in Dynamics (tenant policy: none)');
        return { done: undefined };
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
  run.freshProblems(source, mappingProblems(source, 'Dynamics', mapped));

  const shadow = await loadShadow(store, tenantId, link?.id);
  const fields: Record<string, unknown> = {};
  const agreed: Agreed = [];
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

  const lookupFields = await lookups(run, object, id, entity, associations, shadow);
  Object.assign(fields, lookupFields);
  for (const [field, value] of Object.entries(lookupFields)) agreed.push({ side: 'dv', field, value });
  if (!link && entity === 'lead' && fields.subject === undefined) fields.subject = `HubSpot contact ${[props.firstname, props.lastname].filter(Boolean).join(' ') || props.email || id}`;
  return { id, props, entity, link, fields, agreed, dynamicsId };
}

/**
 * The group's writes in `$batch` requests (each write stands alone): updates of linked records that changed,
 * and upserts by our alternate key for new ones, whose ids Dataverse reports back.
 */
async function writeToDynamics(run: SyncRun, plans: Plan[], fail: (p: Plan, error: unknown) => void): Promise<void> {
  const { ctx } = run;
  const idColumn = `${ctx.settings.prefix}_hubspotid`;
  const due = plans.filter((p) => !p.link || Object.keys(p.fields).length > 0);
  if (due.length === 0) return;
  let results: BatchItemResult[];
  try {
    results = await ctx.dynamics.executeBatch(due.map((p): DataverseWrite => (p.link
      ? { op: 'update', entity: p.entity, id: p.dynamicsId!, data: p.fields }
      : { op: 'upsert', entity: p.entity, key: { [idColumn]: p.id }, data: { ...p.fields, [idColumn]: p.id } })));
  } catch (error) {
    for (const p of due) fail(p, error);
    return;
  }
  for (const [i, r] of results.entries()) {
    const p = due[i];
    if (!r.ok) {
      fail(p, r.error);
      continue;
    }
    run.wrote('toDynamics', p.entity);
    if (p.link) continue;
    let id = r.id;
    if (!id) {
      const created = await ctx.dynamics.retrieve(p.entity, { [idColumn]: p.id }, [pairById(p.entity).primaryId]);
      id = created ? String(created[pairById(p.entity).primaryId]) : undefined;
    }
    if (!id) fail(p, new Error(`Dynamics ${p.entity} written by key ${idColumn}='${p.id}' could not be read back`));
    else p.dynamicsId = id.toLowerCase();
  }
}

/** The Dynamics side is shown on the HubSpot record (our link properties): one batch update for the group. */
async function writeLinkProperties(run: SyncRun, object: HubSpotSource, plans: Plan[], fail: (p: Plan, error: unknown) => void): Promise<void> {
  const { ctx } = run;
  const orgUrl = ctx.settings.dynamics!.orgUrl.replace(/\/+$/, '');
  const linkProps = (p: Plan) => ({ dynamics_id: p.dynamicsId!, dynamics_entity: p.entity, dynamics_url: `${orgUrl}/main.aspx?etn=${p.entity}&id=${p.dynamicsId}&pagetype=entityrecord` });
  const due = plans.filter((p) => p.props.dynamics_id !== p.dynamicsId);
  await writeLinkFields(run, 'to_hubspot', due, (d) => ctx.hubspot.batchUpdate(object, d.map((p) => ({ id: p.id, properties: linkProps(p) }))),
    (p) => Object.entries(linkProps(p)).map(([field, value]) => ({ side: 'hs' as const, field, value })), fail);
}

/** Dynamics contacts and open leads by normalised e-mail, read for a whole group (one query per table per 100 e-mails). */
type EmailMatches = Map<string, Record<'contact' | 'lead', string[]>>;

async function contactsByEmail(run: SyncRun, emails: string[]): Promise<EmailMatches> {
  const out: EmailMatches = new Map();
  const unique = [...new Set(emails)];
  for (const entity of ['contact', 'lead'] as const) {
    const primaryId = pairById(entity).primaryId;
    for (let i = 0; i < unique.length; i += 100) {
      const values = unique.slice(i, i + 100).map(odataString).join(',');
      const open = entity === 'lead' ? ' and statecode eq 0' : '';
      const rows = await run.ctx.dynamics.retrieveAll(entity, { filter: `Microsoft.Dynamics.CRM.In(PropertyName='emailaddress1',PropertyValues=[${values}])${open}`, select: [primaryId, 'emailaddress1'], annotations: false });
      for (const r of rows) {
        const email = normaliseEmail(r.emailaddress1);
        if (!email) continue;
        const entry = out.get(email) ?? { contact: [], lead: [] };
        entry[entity].push(String(r[primaryId]).toLowerCase());
        out.set(email, entry);
      }
    }
  }
  return out;
}

async function matchInDynamics(run: SyncRun, object: HubSpotSource, id: string, props: Record<string, string | null>, emailMatches: EmailMatches): Promise<DynamicsRecordRef | undefined> {
  const { ctx, store } = run;
  const pick = async (entity: DynamicsEntity, ids: string[], by: string) => {
    const free: string[] = [];
    for (const rid of ids) if (!(await store.links.findByDynamics(ctx.tenantId, { entity, id: rid }))) free.push(rid);
    if (free.length > 1) {
      throw new SyncFailure('ambiguous_match', `${free.length} Dynamics ${entity} records match HubSpot ${object} ${id} by ${by}`,
        `Merge the duplicate ${entity} records in Dynamics (HubSpot keeps one record per ${by.split(' ')[0]}), then change the HubSpot record again.`);
    }
    return free[0] ? { entity, id: free[0] } : undefined;
  };
  const find = async (entity: DynamicsEntity, filter: string, by: string) => {
    const pair = pairById(entity);
    const rows = await ctx.dynamics.retrieveAll(entity, { filter, select: [pair.primaryId], top: 5, annotations: false });
    return pick(entity, rows.map((r) => String(r[pair.primaryId]).toLowerCase()), by);
  };
  if (object === 'contacts') {
    const email = normaliseEmail(props.email);
    if (!email) return undefined;
    const found = emailMatches.get(email);
    return (await pick('contact', found?.contact ?? [], `email ${email}`)) ?? (await pick('lead', found?.lead ?? [], `email ${email}`));
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
async function lookups(run: SyncRun, object: HubSpotSource, id: string, entity: DynamicsEntity, associations: Associations, shadow: ShadowHashes): Promise<Record<string, string>> {
  const { ctx, store } = run;
  const kinds = ASSOCIATED[object];
  if (kinds.length === 0) return {};
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
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.fields)) if (!sameAsShadow(shadow, 'dv', k, v)) out[k] = v;
  return out;
}
