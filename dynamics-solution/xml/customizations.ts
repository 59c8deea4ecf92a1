import type { SolutionDefinition } from '../definition.ts';
import { LANGUAGE } from './common.ts';
import { serviceEndpointXml, stepXml, webResourceXml } from './components.ts';
import { entitiesXml } from './entities.ts';
import { el, txt, xmlDocument } from './writer.ts';

/**
 * customizations.xml. Top-level sections follow the ImportExportXml xs:sequence of
 * CustomizationsSolution.xsd (reference/dataverse.md §1.3): order matters for validation. The empty
 * sections are written because Dynamics' own exports always contain them.
 */
export function customizationsXml(def: SolutionDefinition): string {
  const root = el('ImportExportXml', { 'xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance' },
    entitiesXml(def),
    el('Roles'),
    el('Workflows'),
    el('FieldSecurityProfiles'),
    el('Templates'),
    el('EntityMaps'),
    el('EntityRelationships'),
    el('OrganizationSettings'),
    el('optionsets'),
    el('WebResources', {}, def.webResources.map(webResourceXml)),
    el('SdkMessageProcessingSteps', {}, def.steps.map((s) => stepXml(s, def.endpoint.id))),
    el('ServiceEndpoints', {}, serviceEndpointXml(def.endpoint)),
    el('Languages', {}, txt('Language', LANGUAGE)),
  );
  return xmlDocument(root);
}
