import { braced } from '../ids.ts';
import type { ServiceEndpointDef, StepDef, WebResourceDef } from '../definition.ts';
import { INTRODUCED_VERSION } from './common.ts';
import { el, txt, type XmlNode } from './writer.ts';

/** Web resources, the webhook service endpoint and the SDK steps: elements in the XSD's sequence order. */

/**
 * Zip entry of a web resource body as Dynamics exports it: the name without `/` and `.`, then the id in
 * upper case, no extension (`/WebResources/hds_hubspotpanelhtml4F1C…`). reference/dataverse.md §1.1.
 */
export const webResourceFileName = (w: Pick<WebResourceDef, 'name' | 'id'>): string =>
  `/WebResources/${w.name.replace(/[/.]/g, '')}${w.id.toUpperCase()}`;

export function webResourceXml(w: WebResourceDef): XmlNode {
  return el('WebResource', {},
    txt('WebResourceId', braced(w.id)),
    txt('Name', w.name),
    txt('DisplayName', w.displayName),
    txt('Description', w.description),
    txt('WebResourceType', w.type),
    txt('IntroducedVersion', INTRODUCED_VERSION),
    txt('IsEnabledForMobileClient', false),
    txt('IsAvailableForMobileOffline', false),
    // Customizable: the connect step writes the config web resource after import (an unmanaged layer on top).
    txt('IsCustomizable', true),
    txt('CanBeDeleted', true),
    txt('IsHidden', false),
    txt('FileName', webResourceFileName(w)),
  );
}

/**
 * The webhook. There is no AuthValue element in the schema and we would not write one anyway: the key is
 * per tenant and secret, so the connect step PATCHes `serviceendpoints(<id>)` with `authvalue` after import.
 */
export function serviceEndpointXml(e: ServiceEndpointDef): XmlNode {
  return el('ServiceEndpoint', { ServiceEndpointId: braced(e.id), Name: e.name },
    txt('ConnectionMode', e.connectionMode),
    txt('Contract', e.contract),
    txt('Description', e.description),
    el('Path', {}, ''),
    el('SolutionNamespace', {}, ''),
    txt('UserClaim', e.userClaim),
    txt('IsCustomizable', true),
    txt('AuthType', e.authType),
    txt('MessageFormat', e.messageFormat),
    txt('NamespaceFormat', e.namespaceFormat),
    txt('Url', e.url),
  );
}

/** Object type code of serviceendpoint: the step's handler is the endpoint, not a plug-in type (4602). */
export const SERVICE_ENDPOINT_TYPE_CODE = 4618;

/**
 * No step images: the server re-reads every record fresh from the Web API (the queue carries keys, not
 * data), so a post-image would only make each webhook body bigger.
 */
export function stepXml(s: StepDef, endpointId: string): XmlNode {
  return el('SdkMessageProcessingStep', { Name: s.name, SdkMessageProcessingStepId: braced(s.id) },
    txt('PrimaryEntity', s.entity),
    txt('AsyncAutoDelete', s.asyncAutoDelete),
    txt('Description', s.description),
    s.filteringAttributes.length ? txt('FilteringAttributes', s.filteringAttributes.join(',')) : undefined,
    txt('InvocationSource', s.invocationSource),
    txt('Mode', s.mode),
    txt('Rank', s.rank),
    txt('SdkMessageId', s.messageId),
    txt('EventHandler', braced(endpointId)),
    txt('EventHandlerTypeCode', SERVICE_ENDPOINT_TYPE_CODE),
    txt('Stage', s.stage),
    txt('IsCustomizable', true),
    txt('IsHidden', false),
    txt('SupportedDeployment', s.supportedDeployment),
    txt('IntroducedVersion', INTRODUCED_VERSION),
    el('SdkMessageProcessingStepImages'),
  );
}
