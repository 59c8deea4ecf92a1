import type { Principal, StoredRecord } from '../contracts.ts';
import { DataverseError } from '../errors.ts';
import type { WebApi } from '../api.ts';
import { nowIso, reference, type OpContext, type Transaction } from '../store.ts';
import type { AttributeKind } from '../contracts.ts';
import { ImportCodes, importError, missingDependencies, type MissingDependency } from './errors.ts';
import { addTabs, formXmlOf, removeTabs } from './forms.ts';
import { WEB_RESOURCE_CONTROL, type AttributePart, type SolutionPackage } from './package.ts';
import { ComponentType } from './tables.ts';
import { normGuid, path } from './xml.ts';

/**
 * Applies a checked solution package to the org, all or nothing: every row change runs in one store
 * transaction and every schema change (column, key) pushes its own undo onto the same journal, so a
 * failure half-way (e.g. a key whose index collides with existing data) leaves the org as it was.
 * Columns and keys are created through the metadata Web API handler (POST EntityDefinitions(...)/Attributes
 * and /Keys), the same code path a client's metadata call takes.
 *
 * Modes: `update` (ImportSolution: adds and updates, keeps components the new version no longer has, as
 * Dataverse's ImportSolution does) and `upgrade` (StageAndUpgrade: also removes them).
 */

type FormOwnership = { formId: string; mode: 'merged'; tabIds: string[] } | { formId: string; mode: 'created' } | { formId: string; mode: 'replaced'; previous: string };
interface Owned {
  entities: Array<{ logicalName: string; behavior: number }>;
  /** `created` false = the column existed before the import and stays on uninstall. */
  attributes: Array<{ entity: string; logicalName: string; created: boolean }>;
  keys: Array<{ entity: string; logicalName: string; created: boolean }>;
  forms: FormOwnership[];
  webResources: string[];
  endpoints: string[];
  steps: string[];
}
export interface InstalledSolution {
  solutionId: string;
  uniqueName: string;
  version: string;
  managed: boolean;
  publisherUniqueName: string;
  owned: Owned;
  /** url/authtype values the solution last wrote per endpoint: a later PATCH is an unmanaged customisation. */
  endpointValues: Map<string, { url: string | null; authtype: number | null }>;
}
export interface ImportOptions { overwriteUnmanagedCustomizations: boolean; mode: 'update' | 'upgrade'; allowDowngrade: boolean }

const XML_KINDS: Record<string, AttributeKind> = {
  nvarchar: 'String', ntext: 'Memo', int: 'Integer', decimal: 'Decimal', float: 'Double', money: 'Money', bit: 'Boolean',
  datetime: 'DateTime', picklist: 'Picklist', multiselectpicklist: 'MultiSelectPicklist',
};
const REQUIRED_LEVELS: Record<string, string> = { none: 'None', required: 'ApplicationRequired', applicationrequired: 'ApplicationRequired', recommended: 'Recommended', systemrequired: 'SystemRequired' };
const SERVICE_ENDPOINT_TYPE_CODE = 4618;

const label = (text: string) => ({ LocalizedLabels: [{ Label: text, LanguageCode: 1033 }] });

/** customizations.xml attribute → the AttributeMetadata body the metadata API accepts. */
function attributeMetadata(a: AttributePart): Record<string, unknown> {
  const kind = XML_KINDS[a.type];
  const type = { String: 'String', Memo: 'Memo', Integer: 'Integer', Decimal: 'Decimal', Double: 'Double', Money: 'Money', Boolean: 'Boolean', DateTime: 'DateTime', Picklist: 'Picklist', MultiSelectPicklist: 'MultiSelectPicklist' }[kind as string];
  const body: Record<string, unknown> = {
    '@odata.type': `Microsoft.Dynamics.CRM.${type}AttributeMetadata`, SchemaName: a.schemaName, DisplayName: label(a.displayName),
    RequiredLevel: { Value: REQUIRED_LEVELS[a.requiredLevel.toLowerCase()] ?? 'None' },
  };
  if (a.maxLength !== undefined && (kind === 'String' || kind === 'Memo')) body.MaxLength = a.maxLength;
  if (a.minValue !== undefined) body.MinValue = a.minValue;
  if (a.maxValue !== undefined) body.MaxValue = a.maxValue;
  if (kind === 'DateTime') body.Format = a.format === 'date' ? 'DateOnly' : 'DateAndTime';
  if (kind === 'Picklist' || kind === 'MultiSelectPicklist') body.OptionSet = { Options: (a.options ?? []).map((o) => ({ Value: o.value, Label: label(o.label) })) };
  if (kind === 'Boolean') {
    const opt = (v: number, d: string) => a.options?.find((o) => o.value === v)?.label ?? d;
    body.OptionSet = { TrueOption: { Value: 1, Label: label(opt(1, 'Yes')) }, FalseOption: { Value: 0, Label: label(opt(0, 'No')) } };
  }
  return body;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

export class SolutionRegistry {
  /** By lower-case unique name. */
  readonly installed = new Map<string, InstalledSolution>();

  constructor(private readonly api: WebApi) {}

  private get store() { return this.api.store; }
  private get schema() { return this.api.schema; }

  bySolutionId(id: string): InstalledSolution | undefined {
    return [...this.installed.values()].find((s) => s.solutionId === normGuid(id));
  }

  /** Org-dependent checks; throws the first blocking error, or all missing dependencies at once. */
  check(pkg: SolutionPackage, opts: ImportOptions): void {
    const prior = this.installed.get(pkg.uniqueName.toLowerCase());
    if (prior) {
      if (prior.managed && !pkg.managed) throw importError(ImportCodes.UnmanagedToManagedMismatch, `The solution is already installed on this system as a managed solution and the package supplied is attempting to install it in unmanaged mode. Import can only update solutions when the modes match. Uninstall the current solution and try again.`);
      if (!prior.managed && pkg.managed) throw importError(ImportCodes.ManagedToUnmanagedMismatch, `The solution is already installed on this system as an unmanaged solution and the package supplied is attempting to install it in managed mode. Import can only update solutions when the modes match. Uninstall the current solution and try again.`);
      if (prior.publisherUniqueName.toLowerCase() !== pkg.publisher.uniqueName.toLowerCase()) {
        throw importError(ImportCodes.WrongPublisher, `The following managed solution cannot be imported: ${pkg.uniqueName}. The publisher name cannot be changed from ${prior.publisherUniqueName} to ${pkg.publisher.uniqueName}.`);
      }
      if (compareVersions(pkg.version, prior.version) < 0 && !opts.allowDowngrade) {
        throw importError(ImportCodes.ImportSolutionError, `Solution '${pkg.uniqueName}' version ${pkg.version} cannot be imported: version ${prior.version} is already installed and a lower version would downgrade it.`);
      }
    }
    const roots = pkg.rootComponents;
    const declared = (type: number, name?: string, id?: string) => roots.some((r) => r.type === type && ((name && r.schemaName?.toLowerCase() === name.toLowerCase()) || (id && r.id === id)));
    const undeclared = (name: string, type: number) => importError(ImportCodes.MissingRootComponentEntry, `The import has failed because component ${name} of type ${type} is not declared in the solution file as a root component. To fix this, import again using the XML file that was generated when you exported the solution.`);
    for (const e of pkg.entities) if (!declared(ComponentType.Entity, e.logicalName)) throw undeclared(e.logicalName, ComponentType.Entity);
    for (const w of pkg.webResources) if (!declared(ComponentType.WebResource, w.name, w.id)) throw undeclared(w.name, ComponentType.WebResource);
    for (const s of pkg.steps) if (!declared(ComponentType.SdkMessageProcessingStep, undefined, s.id)) throw undeclared(`{${s.id}}`, ComponentType.SdkMessageProcessingStep);
    for (const s of pkg.endpoints) if (!declared(ComponentType.ServiceEndpoint, undefined, s.id)) throw undeclared(`{${s.id}}`, ComponentType.ServiceEndpoint);

    const missing: MissingDependency[] = [];
    const pkgAttr = (entity: string, name: string) => pkg.entities.some((e) => e.logicalName === entity && e.attributes.some((a) => a.logicalName === name));
    const hasAttr = (entity: string, name: string) => !!this.schema.attribute(entity, name) || pkgAttr(entity, name);
    const ownedByPrior = (entity: string, name: string) => !!prior?.owned.attributes.some((a) => a.entity === entity && a.logicalName === name && a.created);
    for (const e of pkg.entities) {
      const table = this.schema.table(e.logicalName);
      if (!table) {
        const dependents = [...e.attributes.map((a) => ({ type: ComponentType.Attribute, schemaName: a.schemaName })), ...e.forms.map((f) => ({ type: ComponentType.SystemForm, schemaName: `{${f.formId}}` }))];
        for (const d of dependents.length ? dependents : [{ type: ComponentType.Entity, schemaName: e.logicalName }]) missing.push({ required: { type: ComponentType.Entity, schemaName: e.logicalName }, dependent: d });
        continue;
      }
      for (const a of e.attributes) {
        if (a.isCustom && !a.logicalName.startsWith(`${pkg.publisher.prefix}_`)) {
          throw importError(ImportCodes.AttributeName, `Invalid name for attribute ${a.schemaName}. Custom attribute names must start with a valid customization prefix. The prefix for a solution component should match the prefix that is specified for the publisher of the solution.`);
        }
        const kind = XML_KINDS[a.type];
        if (!kind) throw importError(ImportCodes.ImportSolutionError, `An error occurred while importing a Solution: attribute ${a.schemaName} has Type '${a.type}', which the sandbox cannot create (it creates ${Object.keys(XML_KINDS).join(', ')}).`);
        if ((kind === 'Picklist' || kind === 'MultiSelectPicklist') && !a.options?.length) throw importError(ImportCodes.ImportSolutionError, `An error occurred while importing a Solution: choice attribute ${a.schemaName} has no optionset/options/option.`);
        const existing = this.schema.attribute(e.logicalName, a.logicalName);
        if (existing && existing.kind !== kind && !ownedByPrior(e.logicalName, a.logicalName)) {
          throw importError(ImportCodes.ImportSolutionError, `An error occurred while importing a Solution: attribute ${a.logicalName} already exists on ${e.logicalName} with type ${existing.kind}, the solution defines it as ${a.type}.`);
        }
      }
      for (const k of e.keys) {
        for (const name of k.attributes) if (!hasAttr(e.logicalName, name)) missing.push({ required: { type: ComponentType.Attribute, schemaName: `${e.logicalName}.${name}` }, dependent: { type: ComponentType.EntityKey, schemaName: k.schemaName } });
      }
      for (const f of e.forms) {
        if (f.isDiff && !this.store.get('systemform', f.formId)) missing.push({ required: { type: ComponentType.SystemForm, schemaName: `{${f.formId}}` }, dependent: { type: ComponentType.SystemForm, schemaName: `{${f.formId}}` } });
        for (const control of path(f.form, 'tabs', 'tab', 'columns', 'column', 'sections', 'section', 'rows', 'row', 'cell', 'control')) {
          if ((control.attrs.classid ?? '').toLowerCase() !== WEB_RESOURCE_CONTROL) continue;
          const url = path(control, 'parameters', 'Url')[0]?.text ?? '';
          const known = pkg.webResources.some((w) => w.name.toLowerCase() === url.toLowerCase()) || this.webResourceByName(url);
          if (!known) missing.push({ required: { type: ComponentType.WebResource, schemaName: url }, dependent: { type: ComponentType.SystemForm, schemaName: `{${f.formId}}` } });
        }
        for (const control of path(f.form, 'tabs', 'tab', 'columns', 'column', 'sections', 'section', 'rows', 'row', 'cell', 'control')) {
          const field = control.attrs.datafieldname;
          if (field && !hasAttr(e.logicalName, field.toLowerCase())) missing.push({ required: { type: ComponentType.Attribute, schemaName: `${e.logicalName}.${field}` }, dependent: { type: ComponentType.SystemForm, schemaName: `{${f.formId}}` } });
        }
      }
    }
    for (const ep of pkg.endpoints) {
      this.checkChoice('serviceendpoint', 'contract', ep.contract, ep.name);
      this.checkChoice('serviceendpoint', 'connectionmode', ep.connectionMode, ep.name);
      this.checkChoice('serviceendpoint', 'userclaim', ep.userClaim, ep.name);
      if (ep.authType !== null) this.checkChoice('serviceendpoint', 'authtype', ep.authType, ep.name);
      if (ep.messageFormat !== null) this.checkChoice('serviceendpoint', 'messageformat', ep.messageFormat, ep.name);
      if (ep.namespaceFormat !== null) this.checkChoice('serviceendpoint', 'namespaceformat', ep.namespaceFormat, ep.name);
    }
    for (const s of pkg.steps) {
      const dependent = { type: ComponentType.SdkMessageProcessingStep, schemaName: s.name || `{${s.id}}` };
      this.checkChoice('sdkmessageprocessingstep', 'stage', s.stage, s.name);
      this.checkChoice('sdkmessageprocessingstep', 'mode', s.mode, s.name);
      const message = this.store.get('sdkmessage', s.messageId);
      if (!message) missing.push({ required: { type: 0, schemaName: `sdkmessage {${s.messageId}}` }, dependent });
      else if (!this.filterFor(message.name as string, s.primaryEntity)) missing.push({ required: { type: ComponentType.Entity, schemaName: s.primaryEntity }, dependent });
      if (s.eventHandlerTypeCode !== SERVICE_ENDPOINT_TYPE_CODE) {
        throw importError(ImportCodes.ImportSolutionError, `An error occurred while importing a Solution: step ${s.name} has EventHandlerTypeCode ${s.eventHandlerTypeCode}; the sandbox runs only service endpoint (4618) handlers, plug-in types are not imitated.`);
      }
      if (!pkg.endpoints.some((e) => e.id === s.eventHandler) && !this.store.get('serviceendpoint', s.eventHandler)) {
        missing.push({ required: { type: ComponentType.ServiceEndpoint, schemaName: `{${s.eventHandler}}` }, dependent });
      }
      for (const col of s.filteringAttributes.split(',').map((c) => c.trim().toLowerCase()).filter(Boolean)) {
        if (!hasAttr(s.primaryEntity, col)) missing.push({ required: { type: ComponentType.Attribute, schemaName: `${s.primaryEntity}.${col}` }, dependent });
      }
    }
    if (missing.length) throw missingDependencies(pkg.uniqueName, missing);
  }

  private checkChoice(entity: string, col: string, value: number, owner: string): void {
    const attr = this.schema.attribute(entity, col)!;
    if (!attr.options!.some((o) => o.value === value)) throw importError(ImportCodes.XsdValidation, `The import file is invalid. XSD validation failed with the following error: '${col} value ${value} of ${owner} is not one of ${attr.options!.map((o) => o.value).join(', ')}'.`);
  }

  private filterFor(message: string, entity: string): StoredRecord | undefined {
    return [...this.store.rows('sdkmessagefilter')].find((f) => f.primaryobjecttypecode === entity && this.store.get('sdkmessage', (f.sdkmessageid as { id: string }).id)?.name === message);
  }

  webResourceByName(name: string): StoredRecord | undefined {
    const n = name.toLowerCase();
    return [...this.store.rows('webresource')].find((w) => String(w.name).toLowerCase() === n);
  }

  /** Runs the import in one journal; returns the solution id. */
  async apply(pkg: SolutionPackage, opts: ImportOptions, principal: Principal, requestId: string): Promise<string> {
    const prior = this.installed.get(pkg.uniqueName.toLowerCase());
    const tx = this.store.begin();
    const ctx: OpContext = { principal, correlationId: requestId, requestId, depth: 1, tx };
    try {
      const result = await this.applyIn(pkg, opts, prior, ctx, tx);
      this.store.commit(tx);
      this.installed.set(pkg.uniqueName.toLowerCase(), result);
      return result.solutionId;
    } catch (err) {
      this.store.rollback(tx);
      if (err instanceof DataverseError && err.code.startsWith('0x80048')) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw importError(ImportCodes.ImportSolutionError, `An error occurred while importing a Solution: ${message}`);
    }
  }

  private async applyIn(pkg: SolutionPackage, opts: ImportOptions, prior: InstalledSolution | undefined, ctx: OpContext, tx: Transaction): Promise<InstalledSolution> {
    const s = this.store;
    const upsert = (table: string, id: string, values: StoredRecord) => (s.get(table, id) ? s.update(table, id, values, ctx) : s.create(table, { ...values, [s.def(table).primaryIdAttribute]: id }, ctx));

    const p = pkg.publisher;
    let publisher = [...s.rows('publisher')].find((r) => String(r.uniquename).toLowerCase() === p.uniqueName.toLowerCase());
    const publisherValues = { uniquename: p.uniqueName, friendlyname: p.friendlyName, description: p.description, customizationprefix: p.prefix, customizationoptionvalueprefix: p.optionValuePrefix, emailaddress: p.email, supportingwebsiteurl: p.website };
    publisher = publisher ? s.update('publisher', publisher.publisherid as string, publisherValues, ctx) : s.create('publisher', publisherValues, ctx);
    const now = nowIso();
    const solutionValues: StoredRecord = {
      uniquename: pkg.uniqueName, friendlyname: pkg.friendlyName, version: pkg.version, ismanaged: pkg.managed, isvisible: true,
      description: pkg.description, publisherid: reference('publisher', publisher.publisherid as string), updatedon: now,
    };
    const solution = prior ? s.update('solution', prior.solutionId, solutionValues, ctx) : s.create('solution', { ...solutionValues, installedon: now }, ctx);
    const solutionId = solution.solutionid as string;
    const owned: Owned = { entities: [], attributes: [], keys: [], forms: [], webResources: [], endpoints: [], steps: [] };

    for (const e of pkg.entities) {
      owned.entities.push({ logicalName: e.logicalName, behavior: pkg.rootComponents.find((r) => r.type === ComponentType.Entity && r.schemaName?.toLowerCase() === e.logicalName)?.behavior ?? 0 });
      for (const a of e.attributes) {
        const had = prior?.owned.attributes.find((x) => x.entity === e.logicalName && x.logicalName === a.logicalName);
        if (this.schema.attribute(e.logicalName, a.logicalName)) {
          owned.attributes.push({ entity: e.logicalName, logicalName: a.logicalName, created: had?.created ?? false });
          continue;
        }
        await this.metadataPost(`EntityDefinitions(LogicalName='${e.logicalName}')/Attributes`, attributeMetadata(a), ctx);
        tx.undo.push(() => this.dropAttribute(e.logicalName, a.logicalName));
        owned.attributes.push({ entity: e.logicalName, logicalName: a.logicalName, created: true });
      }
      for (const k of e.keys) {
        const existing = this.schema.table(e.logicalName)!.keys.find((x) => x.logicalName === k.logicalName);
        const had = prior?.owned.keys.find((x) => x.entity === e.logicalName && x.logicalName === k.logicalName);
        if (existing && [...existing.keyAttributes].sort().join() === [...k.attributes].sort().join()) {
          owned.keys.push({ entity: e.logicalName, logicalName: k.logicalName, created: had?.created ?? false });
          continue;
        }
        if (existing) this.dropKey(e.logicalName, k.logicalName, tx);
        await this.metadataPost(`EntityDefinitions(LogicalName='${e.logicalName}')/Keys`, { SchemaName: k.schemaName, DisplayName: label(k.displayName), KeyAttributes: k.attributes }, ctx);
        tx.undo.push(() => this.schema.removeKey(e.logicalName, k.logicalName));
        owned.keys.push({ entity: e.logicalName, logicalName: k.logicalName, created: true });
      }
    }

    for (const w of pkg.webResources) {
      upsert('webresource', w.id, { name: w.name, displayname: w.displayName, description: w.description, webresourcetype: w.type, content: w.content, languagecode: 1033, ismanaged: pkg.managed, introducedversion: w.introducedVersion });
      owned.webResources.push(w.id);
    }

    for (const f of pkg.entities.flatMap((e) => e.forms)) {
      const before = prior?.owned.forms.find((x) => x.formId === f.formId);
      const row = s.get('systemform', f.formId);
      if (f.isDiff) {
        let xml = row!.formxml as string;
        const newTabs = f.addedTabs.map((t) => normGuid(t.attrs.id));
        const oldTabs = before?.mode === 'merged' ? before.tabIds : [];
        if (opts.mode === 'upgrade') xml = removeTabs(xml, oldTabs.filter((t) => !newTabs.includes(t)));
        s.update('systemform', f.formId, { formxml: addTabs(xml, f.addedTabs) }, ctx);
        owned.forms.push({ formId: f.formId, mode: 'merged', tabIds: opts.mode === 'upgrade' ? newTabs : [...new Set([...oldTabs, ...newTabs])] });
      } else {
        const values = { name: f.name, objecttypecode: f.entity, formxml: formXmlOf(f.form), type: f.type, formactivationstate: 1, formpresentation: 1, ismanaged: pkg.managed };
        if (!row) {
          s.create('systemform', { ...values, formid: f.formId, isdefault: false }, ctx);
          owned.forms.push({ formId: f.formId, mode: 'created' });
        } else {
          // A full form over an existing one replaces its layout; uninstall puts the previous layout back.
          const previous = before?.mode === 'replaced' ? before.previous : before?.mode === 'created' ? undefined : (row.formxml as string);
          s.update('systemform', f.formId, values, ctx);
          owned.forms.push(previous === undefined ? { formId: f.formId, mode: 'created' } : { formId: f.formId, mode: 'replaced', previous });
        }
      }
    }

    const endpointValues = new Map(prior?.endpointValues ?? []);
    for (const ep of pkg.endpoints) {
      const values: StoredRecord = {
        name: ep.name, description: ep.description, contract: ep.contract, connectionmode: ep.connectionMode, authtype: ep.authType, messageformat: ep.messageFormat,
        namespaceformat: ep.namespaceFormat, userclaim: ep.userClaim, url: ep.url, path: ep.path, solutionnamespace: ep.solutionNamespace,
        namespaceaddress: ep.namespaceAddress, saskeyname: ep.sasKeyName,
      };
      const row = s.get('serviceendpoint', ep.id);
      const last = endpointValues.get(ep.id);
      if (row && last && !opts.overwriteUnmanagedCustomizations) {
        // An admin's PATCH of url/authtype is an unmanaged layer on top: kept unless the caller overwrites it.
        if (row.url !== last.url) delete values.url;
        if (row.authtype !== last.authtype) delete values.authtype;
      }
      upsert('serviceendpoint', ep.id, values);
      endpointValues.set(ep.id, { url: ep.url, authtype: ep.authType });
      owned.endpoints.push(ep.id);
    }

    for (const st of pkg.steps) {
      const message = s.get('sdkmessage', st.messageId)!;
      const filter = this.filterFor(message.name as string, st.primaryEntity)!;
      upsert('sdkmessageprocessingstep', st.id, {
        name: st.name, description: st.description, sdkmessageid: reference('sdkmessage', st.messageId),
        sdkmessagefilterid: reference('sdkmessagefilter', filter.sdkmessagefilterid as string), eventhandler: reference('serviceendpoint', st.eventHandler),
        stage: st.stage, mode: st.mode, rank: st.rank, filteringattributes: st.filteringAttributes || null, asyncautodelete: st.asyncAutoDelete,
        supporteddeployment: st.supportedDeployment, invocationsource: st.invocationSource, configuration: st.configuration,
      });
      owned.steps.push(st.id);
    }

    if (prior) {
      const leftovers = this.leftovers(prior.owned, owned);
      if (opts.mode === 'upgrade' && pkg.managed) this.removeOwned(leftovers, ctx, tx);
      else mergeOwned(owned, leftovers);
    }
    this.writeComponents(solutionId, owned, ctx);
    return { solutionId, uniqueName: pkg.uniqueName, version: pkg.version, managed: pkg.managed, publisherUniqueName: p.uniqueName, owned, endpointValues };
  }

  private async metadataPost(path: string, body: Record<string, unknown>, ctx: OpContext): Promise<void> {
    const res = await this.api.handle({
      method: 'POST', path, search: '', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
      principal: ctx.principal, requestId: ctx.requestId, correlationId: ctx.correlationId,
    });
    if (res.status >= 300) {
      const e = (res.json as { error?: { code: string; message: string } }).error;
      throw new Error(e?.message ?? `metadata call failed with ${res.status}`);
    }
  }

  private dropAttribute(entity: string, logicalName: string): void {
    this.schema.removeAttribute(entity, logicalName);
    for (const row of this.store.rows(entity)) delete row[logicalName];
  }

  private dropKey(entity: string, logicalName: string, tx: Transaction): void {
    const def = this.schema.table(entity)!;
    const key = def.keys.find((k) => k.logicalName === logicalName);
    if (!key) return;
    this.schema.removeKey(entity, logicalName);
    tx.undo.push(() => this.schema.addKey(entity, key));
  }

  /** What `prior` owned that `next` does not. */
  private leftovers(prior: Owned, next: Owned): Owned {
    const has = <T>(list: T[], item: T, same: (a: T, b: T) => boolean) => list.some((x) => same(x, item));
    const sameCol = (a: { entity: string; logicalName: string }, b: { entity: string; logicalName: string }) => a.entity === b.entity && a.logicalName === b.logicalName;
    return {
      entities: prior.entities.filter((e) => !has(next.entities, e, (a, b) => a.logicalName === b.logicalName)),
      attributes: prior.attributes.filter((a) => !has(next.attributes, a, sameCol)),
      keys: prior.keys.filter((k) => !has(next.keys, k, sameCol)),
      forms: prior.forms.filter((f) => !next.forms.some((n) => n.formId === f.formId)),
      webResources: prior.webResources.filter((w) => !next.webResources.includes(w)),
      endpoints: prior.endpoints.filter((e) => !next.endpoints.includes(e)),
      steps: prior.steps.filter((st) => !next.steps.includes(st)),
    };
  }

  /** Deletes components (managed uninstall / upgrade): steps first, then what they point at, columns last. */
  removeOwned(owned: Owned, ctx: OpContext, tx: Transaction): void {
    const s = this.store;
    for (const id of owned.steps) if (s.get('sdkmessageprocessingstep', id)) s.delete('sdkmessageprocessingstep', id, ctx);
    for (const id of owned.endpoints) if (s.get('serviceendpoint', id)) s.delete('serviceendpoint', id, ctx);
    for (const f of owned.forms) {
      const row = s.get('systemform', f.formId);
      if (!row) continue;
      if (f.mode === 'merged') s.update('systemform', f.formId, { formxml: removeTabs(row.formxml as string, f.tabIds) }, ctx);
      else if (f.mode === 'replaced') s.update('systemform', f.formId, { formxml: f.previous }, ctx);
      else s.delete('systemform', f.formId, ctx);
    }
    for (const id of owned.webResources) if (s.get('webresource', id)) s.delete('webresource', id, ctx);
    for (const k of owned.keys) if (k.created) this.dropKey(k.entity, k.logicalName, tx);
    for (const a of owned.attributes) {
      if (!a.created) continue;
      const attr = this.schema.attribute(a.entity, a.logicalName);
      if (!attr) continue;
      const def = this.schema.table(a.entity)!;
      const index = def.attributes.indexOf(attr);
      // The column's data goes with it; the undo restores both (rollback of a failed uninstall/upgrade).
      const values = new Map([...s.rows(a.entity)].map((r) => [r, r[a.logicalName]]));
      this.dropAttribute(a.entity, a.logicalName);
      tx.undo.push(() => {
        this.schema.addAttribute(a.entity, attr);
        def.attributes.splice(def.attributes.indexOf(attr), 1);
        def.attributes.splice(index, 0, attr);
        for (const [row, v] of values) row[a.logicalName] = v;
      });
    }
  }

  /** Rewrites the solution's solutioncomponent rows from what it owns now. */
  writeComponents(solutionId: string, owned: Owned, ctx: OpContext): void {
    const s = this.store;
    for (const row of [...s.rows('solutioncomponent')]) {
      if ((row.solutionid as { id: string } | null)?.id === solutionId) s.delete('solutioncomponent', row.solutioncomponentid as string, ctx);
    }
    const add = (type: number, objectid: string, extra: StoredRecord = {}) =>
      s.create('solutioncomponent', { solutionid: reference('solution', solutionId), componenttype: type, objectid, ismetadata: false, ...extra }, ctx);
    for (const e of owned.entities) add(ComponentType.Entity, this.schema.table(e.logicalName)!.metadataId, { ismetadata: true, rootcomponentbehavior: e.behavior });
    for (const a of owned.attributes) {
      const attr = this.schema.attribute(a.entity, a.logicalName);
      if (attr) add(ComponentType.Attribute, attr.metadataId, { ismetadata: true });
    }
    for (const k of owned.keys) {
      const key = this.schema.table(k.entity)?.keys.find((x) => x.logicalName === k.logicalName);
      if (key) add(ComponentType.EntityKey, key.metadataId, { ismetadata: true });
    }
    for (const f of owned.forms) add(ComponentType.SystemForm, f.formId);
    for (const id of owned.webResources) add(ComponentType.WebResource, id, { rootcomponentbehavior: 0 });
    for (const id of owned.endpoints) add(ComponentType.ServiceEndpoint, id, { rootcomponentbehavior: 0 });
    for (const id of owned.steps) add(ComponentType.SdkMessageProcessingStep, id, { rootcomponentbehavior: 0 });
  }

  /** DELETE solutions(<id>): managed → every component goes; unmanaged → only the container (as in Dataverse). */
  uninstall(solution: InstalledSolution, principal: Principal, requestId: string): void {
    const tx = this.store.begin();
    const ctx: OpContext = { principal, correlationId: requestId, requestId, depth: 1, tx };
    try {
      if (solution.managed) this.removeOwned(solution.owned, ctx, tx);
      this.writeComponents(solution.solutionId, { entities: [], attributes: [], keys: [], forms: [], webResources: [], endpoints: [], steps: [] }, ctx);
      this.store.delete('solution', solution.solutionId, ctx);
      this.store.commit(tx);
      this.installed.delete(solution.uniqueName.toLowerCase());
    } catch (err) {
      this.store.rollback(tx);
      throw err;
    }
  }
}

function mergeOwned(into: Owned, extra: Owned): void {
  into.entities.push(...extra.entities);
  into.attributes.push(...extra.attributes);
  into.keys.push(...extra.keys);
  into.forms.push(...extra.forms);
  into.webResources.push(...extra.webResources);
  into.endpoints.push(...extra.endpoints);
  into.steps.push(...extra.steps);
}

