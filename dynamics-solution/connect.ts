import { defineSolution, TENANT_PLACEHOLDER } from './definition.ts';
import { configScript } from './webresource/config.ts';

/**
 * What the connect step (server side, after the customer imported the zip) must write into Dynamics, as
 * plain Web API requests. Kept here, next to the definition that fixes the ids, so the two cannot drift;
 * the server only has to send them with its Dataverse connector.
 */

export interface ConnectRequest {
  method: 'PATCH' | 'POST';
  /** Relative to `<org>/api/data/v9.2/`. */
  path: string;
  body: Record<string, unknown>;
  /** Contains a secret: never log the body. */
  secret: boolean;
}

export interface ConnectInput {
  prefix?: string;
  serverUrl: string;
  tenantId: string;
  /** The tenant's Dynamics webhook key (checked on POST /webhooks/dynamics/:tenant as `?code=`). */
  webhookKey: string;
  /** Per-tenant, read-only credential of the embed API (reaches users' browsers). */
  embedCredential: string;
}

export function connectRequests(o: ConnectInput): ConnectRequest[] {
  const def = defineSolution({ prefix: o.prefix, serverUrl: o.serverUrl });
  const config = def.webResources.find((w) => w.content === 'config')!;
  const webhookUrl = def.endpoint.url.replace(new RegExp(`/${TENANT_PLACEHOLDER}$`), `/${encodeURIComponent(o.tenantId)}`);
  return [
    // authtype stays 4 (WebhookKey): Dataverse sends the key as ?code=<key>.
    { method: 'PATCH', path: `serviceendpoints(${def.endpoint.id})`, body: { url: webhookUrl, authvalue: o.webhookKey }, secret: true },
    {
      method: 'PATCH', path: `webresourceset(${config.id})`, secret: true,
      body: { content: Buffer.from(configScript({ serverUrl: def.options.serverUrl, embedCredential: o.embedCredential }), 'utf8').toString('base64') },
    },
    // A changed web resource is served only once published.
    { method: 'POST', path: 'PublishXml', body: { ParameterXml: `<importexportxml><webresources><webresource>{${config.id}}</webresource></webresources></importexportxml>` }, secret: false },
  ];
}
