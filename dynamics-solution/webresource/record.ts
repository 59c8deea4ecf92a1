import WebApiClient from 'xrm-webapi-client';
import type { EmbedEntity } from './embed-contract.ts';
import type { RecordFields } from './panel.ts';

/**
 * Reads the open record's HubSpot id and email through the Dataverse Web API with xrm-webapi-client.
 * The page is served by the org itself (`<org>/WebResources/…`), so the Web API is same-origin and the
 * user's session authenticates the call: no token handling here.
 */

/** Tables without an email column (opportunity) only give their HubSpot id. */
const EMAIL_COLUMN: Record<EmbedEntity, string | null> = { lead: 'emailaddress1', contact: 'emailaddress1', account: 'emailaddress1', opportunity: null };

export function createRecordReader(prefix: string, origin: string): (entity: EmbedEntity, id: string) => Promise<RecordFields> {
  // Without ClientGlobalContext.js.aspx the library cannot discover the org URL; the page's origin is the org.
  WebApiClient.ClientUrl = `${origin}/api/data/v9.2/`;
  WebApiClient.ReturnAllPages = false;
  const hubspotColumn = `${prefix}_hubspotid`;
  return async (entity, id) => {
    const email = EMAIL_COLUMN[entity];
    const select = [hubspotColumn, ...(email ? [email] : [])].join(',');
    const row = (await WebApiClient.Retrieve({ entityName: entity, entityId: id, queryParams: `?$select=${select}` })) as Record<string, unknown>;
    const value = (k: string | null) => (k && typeof row[k] === 'string' && row[k] ? (row[k] as string) : null);
    return { hubspotId: value(hubspotColumn), email: value(email) };
  };
}
