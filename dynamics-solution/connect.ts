import { defineSolution, TENANT_PLACEHOLDER } from './definition.ts';
import { configScript } from './webresource/config.ts';

/**
 * What the connect step (after the customer imported the zip) must write into Dynamics, as plain Web API
 * requests. Kept here, next to the definition that fixes the ids, so the two cannot drift; `npm run
 * deploy-solution` sends them with the server's Dataverse client.
 */

interface RequestBase {
  /** Relative to `<org>/api/data/v9.2/`. */
  path: string;
  body: Record<string, unknown>;
  /** Contains a secret: never log the body. */
  secret: boolean;
}
/** An update of one row (`If-Match: *`: never creates it). */
export interface UpdateRequest extends RequestBase { method: 'PATCH'; entitySet: string; id: string }
/** An unbound action. */
export interface ActionRequest extends RequestBase { method: 'POST'; action: string }
export type ConnectRequest = UpdateRequest | ActionRequest;

export interface ConnectInput {
  prefix?: string;
  serverUrl: string;
  tenantId: string;
  /** The tenant's Dynamics webhook key (checked on POST /webhooks/dynamics/:tenant as `?code=`). */
  webhookKey: string;
  /**
   * Per-tenant, read-only credential of the embed API (reaches users' browsers). Without it only the endpoint
   * is connected, and the HubSpot tab's configuration is left as it is (a working one is never blanked).
   */
  embedCredential?: string;
}

/** `<serverUrl>/webhooks/dynamics/<tenantId>`: where the connected endpoint posts. */
export function webhookUrl(o: { prefix?: string; serverUrl: string; tenantId: string }): string {
  const def = defineSolution({ prefix: o.prefix, serverUrl: o.serverUrl });
  return def.endpoint.url.replace(new RegExp(`/${TENANT_PLACEHOLDER}$`), `/${encodeURIComponent(o.tenantId)}`);
}

export function connectRequests(o: ConnectInput): ConnectRequest[] {
  const def = defineSolution({ prefix: o.prefix, serverUrl: o.serverUrl });
  const config = def.webResources.find((w) => w.content === 'config')!;
  const update = (entitySet: string, id: string, body: Record<string, unknown>): UpdateRequest =>
    ({ method: 'PATCH', path: `${entitySet}(${id})`, entitySet, id, body, secret: true });
  // authtype stays 4 (WebhookKey): Dataverse sends the key as ?code=<key>.
  const endpoint = update('serviceendpoints', def.endpoint.id, { url: webhookUrl(o), authvalue: o.webhookKey });
  if (o.embedCredential === undefined) return [endpoint];
  return [
    endpoint,
    update('webresourceset', config.id, {
      content: Buffer.from(configScript({ serverUrl: def.options.serverUrl, embedCredential: o.embedCredential }), 'utf8').toString('base64'),
    }),
    // A changed web resource is served only once published.
    {
      method: 'POST', path: 'PublishXml', action: 'PublishXml', secret: false,
      body: { ParameterXml: `<importexportxml><webresources><webresource>{${config.id}}</webresource></webresources></importexportxml>` },
    },
  ];
}
