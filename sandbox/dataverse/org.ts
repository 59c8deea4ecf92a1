import type { AttributeKind, OrgInfo, Principal, StepRegistry, StoredRecord, WebhookStep } from './contracts.ts';
import type { Schema } from './schema.ts';
import { isReference, reference, type OpContext, type Store } from './store.ts';

/**
 * The org's fixed rows (organization, business unit, SYSTEM and the two sandbox users, SDK messages and
 * filters) and the read-side views the plug-in pipeline consumes: OrgInfo and StepRegistry.
 */

/** Well-known sdkmessage ids (identical in every org). */
export const SDK_MESSAGES: Record<string, string> = {
  Create: '9ebdbb1b-ea3e-db11-86a7-000a3a5473e8',
  Update: '20bebb1b-ea3e-db11-86a7-000a3a5473e8',
  SetState: '1cbebb1b-ea3e-db11-86a7-000a3a5473e8',
  SetStateDynamicEntity: '1dbebb1b-ea3e-db11-86a7-000a3a5473e8',
  // The ids below are stable in this sandbox only; real orgs have their own well-known values.
  Delete: 'c6bebb1b-ea3e-db11-86a7-000a3a5473e8',
  Assign: '0ebdbb1b-ea3e-db11-86a7-000a3a5473e8',
  Retrieve: 'd3bebb1b-ea3e-db11-86a7-000a3a5473e8',
  RetrieveMultiple: 'd4bebb1b-ea3e-db11-86a7-000a3a5473e8',
  QualifyLead: 'b2bebb1b-ea3e-db11-86a7-000a3a5473e8',
};

export const SYSTEM_USER_ID = '00000000-0000-0000-0000-00000000a001';

export interface OrgSeed {
  organizationId: string;
  organizationName: string;
  businessUnitId: string;
  applicationUser: { systemUserId: string; azureObjectId: string; applicationId: string; name: string };
  person: { systemUserId: string; azureObjectId: string; firstname: string; lastname: string; email: string };
}

export function systemPrincipal(): Principal {
  return { systemUserId: SYSTEM_USER_ID, azureObjectId: '00000000-0000-0000-0000-000000000000', kind: 'user' };
}

export function seedOrg(store: Store, seed: OrgSeed): void {
  const ctx: OpContext = { principal: systemPrincipal(), correlationId: 'seed', requestId: 'seed', depth: 1 };
  store.businessUnitId = seed.businessUnitId;
  const domain = seed.organizationName;
  store.create('systemuser', { systemuserid: SYSTEM_USER_ID, firstname: '', lastname: 'SYSTEM', accessmode: 4, isdisabled: false }, ctx);
  store.create('businessunit', { businessunitid: seed.businessUnitId, name: domain.split('.')[0] }, ctx);
  const bu = reference('businessunit', seed.businessUnitId);
  store.update('systemuser', SYSTEM_USER_ID, { businessunitid: bu }, ctx);
  store.create('organization', { organizationid: seed.organizationId, name: domain.split('.')[0], languagecode: 1033, expirechangetrackingindays: 7 }, ctx);
  store.create('systemuser', {
    systemuserid: seed.applicationUser.systemUserId, firstname: '#', lastname: seed.applicationUser.name,
    applicationid: seed.applicationUser.applicationId, azureactivedirectoryobjectid: seed.applicationUser.azureObjectId,
    domainname: `${seed.applicationUser.applicationId}@${domain}`, internalemailaddress: `${seed.applicationUser.applicationId}@${domain}`,
    accessmode: 4, isdisabled: false, businessunitid: bu,
  }, ctx);
  store.create('systemuser', {
    systemuserid: seed.person.systemUserId, firstname: seed.person.firstname, lastname: seed.person.lastname,
    internalemailaddress: seed.person.email, domainname: seed.person.email, azureactivedirectoryobjectid: seed.person.azureObjectId,
    accessmode: 0, isdisabled: false, businessunitid: bu, title: 'Sales Manager',
  }, ctx);
  for (const [name, id] of Object.entries(SDK_MESSAGES)) store.create('sdkmessage', { sdkmessageid: id, name, categoryname: 'Sdk' }, ctx);
  let n = 0;
  for (const message of ['Create', 'Update', 'Delete', 'SetState', 'Assign']) {
    for (const entity of ['lead', 'contact', 'account', 'opportunity']) {
      n += 1;
      store.create('sdkmessagefilter', {
        sdkmessagefilterid: `5f000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, name: `${message} ${entity}`,
        sdkmessageid: reference('sdkmessage', SDK_MESSAGES[message]), primaryobjecttypecode: entity, secondaryobjecttypecode: 'none',
        iscustomprocessingstepallowed: true,
      }, ctx);
    }
  }
}

export function createOrgInfo(schema: Schema, seed: OrgSeed): OrgInfo {
  return {
    organizationId: seed.organizationId,
    organizationName: seed.organizationName,
    businessUnitId: seed.businessUnitId,
    attributeKind: (entity, col): AttributeKind | undefined => schema.attribute(entity, col)?.kind,
    optionLabel: (entity, col, value) => schema.attribute(entity, col)?.options?.find((o) => o.value === value)?.label,
    primaryNameColumn: (entity) => schema.table(entity)?.primaryNameAttribute,
  };
}

/** Steps are read fresh on every call, so registering or disabling one takes effect immediately. */
export function createStepRegistry(store: Store): StepRegistry {
  const refId = (row: StoredRecord, col: string) => (isReference(row[col]) ? (row[col] as { id: string }).id : undefined);
  return {
    stepsFor(message: string, entity: string): WebhookStep[] {
      const steps: WebhookStep[] = [];
      for (const step of store.rows('sdkmessageprocessingstep')) {
        const messageId = refId(step, 'sdkmessageid');
        const msg = messageId ? store.get('sdkmessage', messageId) : undefined;
        if (!msg || msg.name !== message) continue;
        const filterId = refId(step, 'sdkmessagefilterid');
        const filter = filterId ? store.get('sdkmessagefilter', filterId) : undefined;
        if (!filter || filter.primaryobjecttypecode !== entity) continue;
        const handler = step.eventhandler;
        if (!isReference(handler) || handler.logicalName !== 'serviceendpoint') continue;
        const ep = store.get('serviceendpoint', handler.id);
        if (!ep || ep.contract !== 8) continue;
        steps.push({
          id: step.sdkmessageprocessingstepid as string,
          name: (step.name as string) ?? '',
          message,
          entity,
          stage: (step.stage as number) ?? 40,
          mode: (step.mode as number) ?? 0,
          filteringAttributes: typeof step.filteringattributes === 'string' && step.filteringattributes
            ? step.filteringattributes.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean) : [],
          enabled: step.statecode === 0,
          endpoint: {
            id: ep.serviceendpointid as string, name: (ep.name as string) ?? '', url: (ep.url as string) ?? '',
            authType: (ep.authtype as number) ?? 4, authValue: (ep.authvalue as string | null) ?? null,
          },
        });
      }
      return steps;
    },
  };
}
