import JSZip from 'jszip';
import { ImportCodes, importError } from './errors.ts';
import { child, childrenOf, GUID, normGuid, parseXml, path, textOf, XmlSyntaxError, type XmlElement } from './xml.ts';

/**
 * Unzips a solution file and reads solution.xml + customizations.xml into a typed package, checking what
 * Dataverse checks before it touches the org: the three root files, well-formed XML, known elements
 * (XSD-style, so a typo in an element name fails instead of being ignored), required values, and that
 * every web resource's FileName is in the zip. Org-dependent checks live in register.ts.
 */

export interface PublisherPart {
  uniqueName: string; friendlyName: string; description: string; prefix: string; optionValuePrefix: number | null;
  email: string | null; website: string | null;
}
export interface RootComponentPart { type: number; schemaName?: string; id?: string; behavior: number }
export interface OptionPart { value: number; label: string }
export interface AttributePart {
  entity: string; schemaName: string; logicalName: string; type: string; displayName: string; requiredLevel: string;
  maxLength?: number; minValue?: number; maxValue?: number; precision?: number; format?: string; options?: OptionPart[]; isCustom: boolean;
}
export interface KeyPart { entity: string; schemaName: string; logicalName: string; displayName: string; attributes: string[] }
export interface FormPart {
  entity: string; formId: string; type: number; name: string;
  /** The `<form>` element; for a diff form only the nodes marked with solutionaction matter. */
  form: XmlElement;
  /** Diff FormXml (managed change to an existing form): only `<tab solutionaction="Added">` is merged. */
  isDiff: boolean;
  addedTabs: XmlElement[];
}
export interface EntityPart { logicalName: string; attributes: AttributePart[]; keys: KeyPart[]; forms: FormPart[] }
export interface WebResourcePart { id: string; name: string; displayName: string; description: string; type: number; fileName: string; content: string; introducedVersion: string }
export interface EndpointPart {
  id: string; name: string; description: string; contract: number; connectionMode: number; authType: number | null; messageFormat: number | null;
  namespaceFormat: number | null; userClaim: number; url: string | null; path: string; solutionNamespace: string; namespaceAddress: string | null; sasKeyName: string | null;
}
export interface StepPart {
  id: string; name: string; description: string; primaryEntity: string; messageId: string; eventHandler: string; eventHandlerTypeCode: number;
  stage: number; mode: number; rank: number; filteringAttributes: string; asyncAutoDelete: boolean; supportedDeployment: number;
  invocationSource: number; configuration: string | null;
}
export interface SolutionPackage {
  uniqueName: string; friendlyName: string; description: string; version: string; managed: boolean;
  publisher: PublisherPart;
  rootComponents: RootComponentPart[];
  entities: EntityPart[];
  webResources: WebResourcePart[];
  endpoints: EndpointPart[];
  steps: StepPart[];
}

const ROOT_FILES = ['solution.xml', 'customizations.xml', '[Content_Types].xml'];

const badZip = () => importError(ImportCodes.BadZipFile,
  'The solution file is invalid. The compressed file must contain the following files at its root: solution.xml, customizations.xml, and [Content_Types].xml. Customization files exported from previous versions of Microsoft Dynamics 365 are not supported.');

const xsd = (message: string, at: string) => importError(ImportCodes.XsdValidation,
  `The import file is invalid. XSD validation failed with the following error: '${message}'. The validation failed at: '...${at} <<<<'.`);

/** Top-level customizations.xml elements (CustomizationsSolution.xsd, ImportExportXml sequence). */
const CUSTOMIZATION_SECTIONS = new Set([
  'Entities', 'Roles', 'Workflows', 'FieldSecurityProfiles', 'Templates', 'RibbonDiffXml', 'IsvConfig', 'RelationshipRoles', 'ConnectionRoles',
  'SiteMap', 'EntityMaps', 'EntityRelationships', 'OrganizationSettings', 'optionsets', 'Reports', 'RoutingRules', 'ChannelPropertyGroups',
  'ConvertRules', 'MobileOfflineProfiles', 'Slas', 'ChannelAccessProfiles', 'ChannelAccessProfileRules', 'Dashboards',
  'InteractionCentricDashboards', 'Dialogs', 'WebResources', 'CustomControls', 'SolutionPluginAssemblies', 'SdkMessageProcessingSteps',
  'ServiceEndpoints', 'AppModuleSiteMaps', 'AppModules', 'EntityDataProviders', 'EntityDataSources', 'Languages',
  'GlobalSearchConfigurations', 'StoredProcedures',
]);
/** Sections the sandbox imports; any other section must be empty (the sandbox has nothing to put it in). */
const IMPORTED_SECTIONS = new Set(['Entities', 'WebResources', 'SdkMessageProcessingSteps', 'ServiceEndpoints', 'Languages']);
/** Children of <Entity> (XSD EntitiesType); the ones besides Name/EntityInfo/FormXml are accepted and ignored. */
const ENTITY_CHILDREN = new Set(['Name', 'ObjectTypeCode', 'EntityInfo', 'FormXml', 'SavedQueries', 'Visualizations', 'RibbonDiffXml', 'Icons', 'Strings', 'HierarchyRules', 'CustomControlDefaultConfigs', 'indexes']);
const FORM_TYPES: Record<string, number> = { main: 2, quick: 6, quickCreate: 7, card: 12 };
const WEB_RESOURCE_CONTROL = '{9fdf5f91-88b1-47f4-ad53-c11efc01a01d}';
export { WEB_RESOURCE_CONTROL };

export async function readSolutionZip(bytes: Buffer): Promise<{ pkg: SolutionPackage; solutionXml: XmlElement }> {
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(bytes);
  } catch {
    throw badZip();
  }
  if (ROOT_FILES.some((f) => !zip.file(f))) throw badZip();
  const docs: Record<string, XmlElement> = {};
  for (const f of ROOT_FILES) {
    try {
      docs[f] = parseXml(f, await zip.file(f)!.async('string'));
    } catch (err) {
      if (!(err instanceof XmlSyntaxError)) throw err;
      throw importError(ImportCodes.NonWellFormedFile, `Invalid customization file. This file is not well formed. ${f}${err.line ? ` (line ${err.line})` : ''}: ${err.message}`);
    }
  }
  if (docs['[Content_Types].xml'].name !== 'Types') throw xsd(`The root element of [Content_Types].xml must be 'Types'`, docs['[Content_Types].xml'].name);
  const pkg = readManifest(docs['solution.xml']);
  await readCustomizations(docs['customizations.xml'], pkg, zip);
  return { pkg, solutionXml: docs['solution.xml'] };
}

function required(e: XmlElement | undefined, name: string, where: string): string {
  const v = textOf(e, name);
  if (v === undefined || v === '') throw xsd(`The element '${where}' has incomplete content. List of possible elements expected: '${name}'`, `<${where}>`);
  return v;
}

function int(e: XmlElement | undefined, name: string, where: string, fallback?: number): number {
  const v = textOf(e, name);
  if ((v === undefined || v === '') && fallback !== undefined) return fallback;
  const n = Number(required(e, name, where));
  if (!Number.isInteger(n)) throw xsd(`The '${name}' element is invalid - The value '${v}' is invalid according to its datatype 'Integer'`, `<${name}>${v}`);
  return n;
}

function optInt(e: XmlElement | undefined, name: string): number | null {
  const v = textOf(e, name);
  if (v === undefined || v === '') return null;
  const n = Number(v);
  if (!Number.isFinite(n)) throw xsd(`The '${name}' element is invalid - The value '${v}' is invalid according to its datatype 'Integer'`, `<${name}>${v}`);
  return n;
}

function guid(value: string | undefined, what: string): string {
  if (!value || !GUID.test(value)) throw xsd(`The '${what}' value '${value ?? ''}' is not a valid GuidType`, what);
  return normGuid(value);
}

/** Label in 1033 (or the first one) from `<X><Y description="…" languagecode="1033"/></X>`. */
function localized(container: XmlElement | undefined): string {
  const items = container?.children ?? [];
  return (items.find((i) => i.attrs.languagecode === '1033') ?? items[0])?.attrs.description ?? '';
}

function readManifest(root: XmlElement): SolutionPackage {
  if (root.name !== 'ImportExportXml') throw xsd(`The root element of solution.xml must be 'ImportExportXml'`, root.name);
  const m = child(root, 'SolutionManifest');
  if (!m) throw xsd(`The element 'ImportExportXml' has incomplete content. List of possible elements expected: 'SolutionManifest'`, '<ImportExportXml>');
  const uniqueName = required(m, 'UniqueName', 'SolutionManifest');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(uniqueName)) throw xsd(`The UniqueName '${uniqueName}' may contain only letters, digits and underscores`, `<UniqueName>${uniqueName}`);
  const version = required(m, 'Version', 'SolutionManifest');
  if (!/^\d+(\.\d+){1,3}$/.test(version)) throw xsd(`The Version '${version}' must be major.minor[.build[.revision]]`, `<Version>${version}`);
  const managed = textOf(m, 'Managed');
  if (managed !== '0' && managed !== '1') throw xsd(`The 'Managed' element is invalid - the value '${managed ?? ''}' is not 0 (unmanaged) or 1 (managed) in a solution zip`, `<Managed>${managed ?? ''}`);
  const p = child(m, 'Publisher');
  if (!p) throw xsd(`The element 'SolutionManifest' has incomplete content. List of possible elements expected: 'Publisher'`, '<SolutionManifest>');
  const prefix = required(p, 'CustomizationPrefix', 'Publisher');
  if (!/^[a-z][a-z0-9]{1,7}$/.test(prefix) || prefix.startsWith('mscrm')) throw xsd(`The CustomizationPrefix '${prefix}' must be 2-8 lower-case letters or digits starting with a letter`, `<CustomizationPrefix>${prefix}`);
  const nil = (n: string) => (child(p, n)?.attrs['xsi:nil'] === 'true' ? null : textOf(p, n) || null);
  const rootComponents = path(m, 'RootComponents', 'RootComponent').map((rc) => {
    const type = Number(rc.attrs.type);
    if (!Number.isInteger(type)) throw xsd(`The 'type' attribute '${rc.attrs.type ?? ''}' of RootComponent is not an integer`, '<RootComponent');
    return { type, schemaName: rc.attrs.schemaName, id: rc.attrs.id ? guid(rc.attrs.id, 'RootComponent/@id') : undefined, behavior: Number(rc.attrs.behavior ?? 0) };
  });
  return {
    uniqueName, version, managed: managed === '1',
    friendlyName: localized(child(m, 'LocalizedNames')) || uniqueName,
    description: localized(child(m, 'Descriptions')),
    publisher: {
      uniqueName: required(p, 'UniqueName', 'Publisher'), friendlyName: localized(child(p, 'LocalizedNames')) || required(p, 'UniqueName', 'Publisher'),
      description: localized(child(p, 'Descriptions')), prefix, optionValuePrefix: optInt(p, 'CustomizationOptionValuePrefix'),
      email: nil('EMailAddress'), website: nil('SupportingWebsiteUrl'),
    },
    rootComponents, entities: [], webResources: [], endpoints: [], steps: [],
  };
}

async function readCustomizations(root: XmlElement, pkg: SolutionPackage, zip: JSZip): Promise<void> {
  if (root.name !== 'ImportExportXml') throw xsd(`The root element of customizations.xml must be 'ImportExportXml'`, root.name);
  for (const section of root.children) {
    if (!CUSTOMIZATION_SECTIONS.has(section.name)) {
      throw xsd(`The element 'ImportExportXml' has invalid child element '${section.name}'`, `<${section.name}>`);
    }
    if (!IMPORTED_SECTIONS.has(section.name) && (section.children.length || section.text)) {
      throw importError(ImportCodes.ImportSolutionError, `An error occurred while importing a Solution: the sandbox does not import '${section.name}' components; leave that element empty.`);
    }
  }
  for (const e of path(root, 'Entities', 'Entity')) pkg.entities.push(readEntity(e));
  for (const w of path(root, 'WebResources', 'WebResource')) pkg.webResources.push(await readWebResource(w, zip));
  for (const s of path(root, 'ServiceEndpoints', 'ServiceEndpoint')) pkg.endpoints.push(readEndpoint(s));
  for (const s of path(root, 'SdkMessageProcessingSteps', 'SdkMessageProcessingStep')) pkg.steps.push(readStep(s));
}

function readEntity(e: XmlElement): EntityPart {
  for (const c of e.children) if (!ENTITY_CHILDREN.has(c.name)) throw xsd(`The element 'Entity' has invalid child element '${c.name}'`, `<${c.name}>`);
  const logicalName = required(e, 'Name', 'Entity').toLowerCase();
  const info = child(child(e, 'EntityInfo'), 'entity');
  const attributes = path(info, 'attributes', 'attribute').map((a) => readAttribute(a, logicalName));
  const keys = path(info, 'EntityKeys', 'EntityKey').map((k): KeyPart => {
    const schemaName = required(k, 'Name', 'EntityKey');
    const attrs = path(k, 'EntityKeyAttributes', 'AttributeName').map((a) => a.text.toLowerCase()).filter(Boolean);
    if (!attrs.length) throw xsd(`The element 'EntityKey' has incomplete content. List of possible elements expected: 'EntityKeyAttributes/AttributeName'`, `<EntityKey>${schemaName}`);
    return { entity: logicalName, schemaName, logicalName: (textOf(k, 'LogicalName') || schemaName).toLowerCase(), displayName: localized(child(k, 'displaynames')) || schemaName, attributes: attrs };
  });
  const forms: FormPart[] = [];
  for (const group of path(e, 'FormXml', 'forms')) {
    const type = FORM_TYPES[group.attrs.type ?? ''];
    if (type === undefined) throw xsd(`The 'type' attribute '${group.attrs.type ?? ''}' of forms is not one of main, quick, quickCreate, card`, '<forms');
    for (const sf of childrenOf(group, 'systemform')) forms.push(readForm(sf, logicalName, type));
  }
  return { logicalName, attributes, keys, forms };
}

const XML_TYPES = new Set(['nvarchar', 'ntext', 'int', 'decimal', 'float', 'money', 'bit', 'datetime', 'picklist', 'multiselectpicklist', 'lookup', 'bigint', 'uniqueidentifier', 'primarykey', 'virtual', 'state', 'status', 'owner', 'customer', 'image', 'file']);

function readAttribute(a: XmlElement, entity: string): AttributePart {
  const schemaName = a.attrs.PhysicalName;
  if (!schemaName) throw xsd(`The required attribute 'PhysicalName' is missing`, '<attribute');
  const type = required(a, 'Type', 'attribute');
  if (!XML_TYPES.has(type)) throw xsd(`The 'Type' element is invalid - The value '${type}' is invalid according to its datatype 'CrmDataType'`, `<Type>${type}`);
  const logicalName = required(a, 'LogicalName', 'attribute');
  if (logicalName !== schemaName.toLowerCase()) throw xsd(`LogicalName '${logicalName}' must be the lower-case PhysicalName '${schemaName}'`, `<LogicalName>${logicalName}`);
  const num = (n: string) => optInt(a, n) ?? undefined;
  const options = path(a, 'optionset', 'options', 'option').map((o) => ({
    value: Number(o.attrs.value), label: localized(child(o, 'labels')) || String(o.attrs.value),
  }));
  return {
    entity, schemaName, logicalName, type, displayName: localized(child(a, 'displaynames')) || schemaName,
    requiredLevel: textOf(a, 'RequiredLevel') ?? 'none', maxLength: num('MaxLength'), minValue: num('MinValue'), maxValue: num('MaxValue'),
    precision: num('Accuracy'), format: textOf(a, 'Format'), options: options.length ? options : undefined, isCustom: textOf(a, 'IsCustomField') !== '0',
  };
}

function readForm(sf: XmlElement, entity: string, type: number): FormPart {
  const formId = guid(textOf(sf, 'formid'), 'systemform/formid');
  const form = child(sf, 'form');
  if (!form) throw xsd(`The element 'systemform' has incomplete content. List of possible elements expected: 'form'`, `<formid>${formId}`);
  const marked: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (e.attrs.solutionaction !== undefined) marked.push(e);
    e.children.forEach(walk);
  };
  walk(form);
  const addedTabs: XmlElement[] = [];
  for (const m of marked) {
    if (m.name !== 'tab' || m.attrs.solutionaction !== 'Added' || !path(form, 'tabs', 'tab').includes(m)) {
      throw importError(ImportCodes.FormXml, `The form ${formId} of ${entity} has <${m.name} solutionaction="${m.attrs.solutionaction}">; the sandbox merges only <tab solutionaction="Added"> directly under <form><tabs>.`);
    }
    if (!m.attrs.id || !GUID.test(m.attrs.id)) throw xsd(`The tab '${m.attrs.name ?? ''}' needs an id attribute with a GUID`, '<tab');
    addedTabs.push(m);
  }
  return { entity, formId, type, name: localized(child(sf, 'LocalizedNames')) || entity, form, isDiff: marked.length > 0, addedTabs };
}

async function readWebResource(w: XmlElement, zip: JSZip): Promise<WebResourcePart> {
  const id = guid(textOf(w, 'WebResourceId'), 'WebResourceId');
  const name = required(w, 'Name', 'WebResource');
  const type = int(w, 'WebResourceType', 'WebResource');
  if (type < 1 || type > 12) throw xsd(`The 'WebResourceType' element is invalid - The value '${type}' is not between 1 and 12`, `<WebResourceType>${type}`);
  const fileName = required(w, 'FileName', 'WebResource');
  const file = zip.file(fileName.replace(/^\//, ''));
  if (!file) {
    throw importError(ImportCodes.ImportSolutionError, `An error occurred while importing a Solution: the file '${fileName}' of web resource '${name}' is not in the compressed file.`);
  }
  return {
    id, name, type, fileName, displayName: textOf(w, 'DisplayName') ?? name, description: textOf(w, 'Description') ?? '',
    content: (await file.async('nodebuffer')).toString('base64'), introducedVersion: textOf(w, 'IntroducedVersion') ?? '1.0',
  };
}

function readEndpoint(s: XmlElement): EndpointPart {
  const id = guid(s.attrs.ServiceEndpointId, 'ServiceEndpoint/@ServiceEndpointId');
  const name = s.attrs.Name;
  if (!name) throw xsd(`The required attribute 'Name' is missing`, '<ServiceEndpoint');
  const str = (n: string) => textOf(s, n) || null;
  return {
    id, name, description: textOf(s, 'Description') ?? '', contract: int(s, 'Contract', 'ServiceEndpoint'), connectionMode: int(s, 'ConnectionMode', 'ServiceEndpoint'),
    authType: optInt(s, 'AuthType'), messageFormat: optInt(s, 'MessageFormat'), namespaceFormat: optInt(s, 'NamespaceFormat'),
    userClaim: int(s, 'UserClaim', 'ServiceEndpoint', 1), url: str('Url'), path: textOf(s, 'Path') ?? '', solutionNamespace: textOf(s, 'SolutionNamespace') ?? '',
    namespaceAddress: str('NamespaceAddress'), sasKeyName: str('SASKeyName'),
  };
}

function readStep(s: XmlElement): StepPart {
  const id = guid(s.attrs.SdkMessageProcessingStepId, 'SdkMessageProcessingStep/@SdkMessageProcessingStepId');
  const bool = (n: string) => textOf(s, n) === '1' || textOf(s, n) === 'true';
  return {
    id, name: s.attrs.Name ?? '', description: textOf(s, 'Description') ?? '', primaryEntity: required(s, 'PrimaryEntity', 'SdkMessageProcessingStep').toLowerCase(),
    messageId: guid(textOf(s, 'SdkMessageId'), 'SdkMessageId'), eventHandler: guid(textOf(s, 'EventHandler'), 'EventHandler'),
    eventHandlerTypeCode: int(s, 'EventHandlerTypeCode', 'SdkMessageProcessingStep', 4602), stage: int(s, 'Stage', 'SdkMessageProcessingStep'),
    mode: int(s, 'Mode', 'SdkMessageProcessingStep', 0), rank: int(s, 'Rank', 'SdkMessageProcessingStep', 1),
    filteringAttributes: textOf(s, 'FilteringAttributes') ?? '', asyncAutoDelete: bool('AsyncAutoDelete'),
    supportedDeployment: int(s, 'SupportedDeployment', 'SdkMessageProcessingStep', 0), invocationSource: int(s, 'InvocationSource', 'SdkMessageProcessingStep', 0),
    configuration: textOf(s, 'Configuration') || null,
  };
}
