import { braced } from '../ids.ts';
import type { SolutionDefinition } from '../definition.ts';
import { LANGUAGE } from './common.ts';
import { el, txt, xmlDocument, type XmlNode } from './writer.ts';

/** solution.xml: the manifest (no XSD covers it; shape from real exports, reference/dataverse.md §1.2). */

/** solutioncomponent.componenttype (learn solutioncomponent.md). */
export const ComponentType = { Entity: 1, Attribute: 2, EntityKey: 14, SystemForm: 60, WebResource: 61, SdkMessageProcessingStep: 92, ServiceEndpoint: 95 } as const;
/** RootComponent behavior: 0 include subcomponents, 1 metadata only, 2 shell only. */
export const Behavior = { IncludeSubcomponents: 0, DoNotIncludeSubcomponents: 1, IncludeAsShellOnly: 2 } as const;

export interface RootComponent { type: number; schemaName?: string; id?: string; behavior: number }

/**
 * System tables as shells (behavior 2): we add columns, a key and a form tab, we do not take over the table
 * (behavior 0 would make uninstall/upgrade treat the whole table as ours). The columns, key and form diff
 * travel inside the shell, as exports of such solutions show. Web resources are listed by name, endpoint
 * and steps by id (they have no unique name), as in real exports.
 */
export function rootComponents(def: SolutionDefinition): RootComponent[] {
  return [
    ...def.tables.map((t) => ({ type: ComponentType.Entity, schemaName: t.logicalName, behavior: Behavior.IncludeAsShellOnly })),
    ...def.webResources.map((w) => ({ type: ComponentType.WebResource, schemaName: w.name, behavior: Behavior.IncludeSubcomponents })),
    ...def.steps.map((s) => ({ type: ComponentType.SdkMessageProcessingStep, id: braced(s.id), behavior: Behavior.IncludeSubcomponents })),
    { type: ComponentType.ServiceEndpoint, id: braced(def.endpoint.id), behavior: Behavior.IncludeSubcomponents },
  ];
}

const nil = (name: string): XmlNode => el(name, { 'xsi:nil': 'true' }, '');

export function solutionXml(def: SolutionDefinition, managed: boolean): string {
  const p = def.publisher;
  const root = el('ImportExportXml', { version: '9.2.0.0', SolutionPackageVersion: '9.2', languagecode: LANGUAGE, generatedBy: 'CrmLive', 'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance' },
    el('SolutionManifest', {},
      txt('UniqueName', def.solution.uniqueName),
      el('LocalizedNames', {}, el('LocalizedName', { description: def.solution.displayName, languagecode: LANGUAGE })),
      el('Descriptions', {}, el('Description', { description: def.solution.description, languagecode: LANGUAGE })),
      txt('Version', def.solution.version),
      txt('Managed', managed ? 1 : 0),
      el('Publisher', {},
        txt('UniqueName', p.uniqueName),
        el('LocalizedNames', {}, el('LocalizedName', { description: p.displayName, languagecode: LANGUAGE })),
        el('Descriptions', {}, el('Description', { description: p.description, languagecode: LANGUAGE })),
        p.email ? txt('EMailAddress', p.email) : nil('EMailAddress'),
        p.website ? txt('SupportingWebsiteUrl', p.website) : nil('SupportingWebsiteUrl'),
        txt('CustomizationPrefix', p.prefix),
        txt('CustomizationOptionValuePrefix', p.optionValuePrefix),
        el('Addresses'),
      ),
      el('RootComponents', {}, rootComponents(def).map((r) => el('RootComponent', { type: r.type, schemaName: r.schemaName, id: r.id, behavior: r.behavior }))),
      el('MissingDependencies'),
    ),
  );
  return xmlDocument(root);
}
