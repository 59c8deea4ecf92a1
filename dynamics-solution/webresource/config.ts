/**
 * Where the panel finds the sync server and its embed credential.
 *
 * Choice: a sibling JScript web resource, `<prefix>_/hubspot/config.js`, loaded by the panel with a relative
 * `<script src="config.js">` (both are served under `/WebResources/<prefix>_/hubspot/`). The packaged zip
 * ships it with the server URL from `--server-url` and NO credential; the connect step (deploy) replaces its
 * content through the Web API once the tenant exists:
 *
 *   PATCH /api/data/v9.2/webresourceset(<config web resource id>)  { "content": base64(configScript({...})) }
 *   POST  /api/data/v9.2/PublishXml  { "ParameterXml": "<importexportxml><webresources><webresource>{id}</webresource></webresources></importexportxml>" }
 *
 * Why not the form control's `Data` parameter: it lives in the form XML of a managed solution, so setting it
 * per tenant means editing a system form after import; and a credential must never be inside the zip.
 * The credential is readable by every Dynamics user who can open the form (as anything a browser uses is),
 * so the server must scope it to the read-only embed API of that one tenant.
 */

export interface PanelConfig {
  /** Sync server base URL, e.g. https://sync.example.com. */
  serverUrl: string;
  /** Bearer credential for the embed API; null until the connect step sets it. */
  embedCredential: string | null;
}

/** The global the config script assigns and the panel reads. */
export const CONFIG_GLOBAL = 'hubspotSyncPanelConfig';

/** The body of config.js (the packaging step and the connect step both write it with this). */
export function configScript(config: PanelConfig): string {
  const json = JSON.stringify({ serverUrl: config.serverUrl, embedCredential: config.embedCredential })
    // Never let a value end the script element if someone inlines this.
    .replace(/</g, '\\u003c');
  return `// HubSpot panel configuration. Written by the HubSpot sync connect step; do not edit by hand.\nwindow.${CONFIG_GLOBAL} = ${json};\n`;
}

/** Validates what config.js assigned; null = nothing usable (missing, or not connected yet). */
export function readPanelConfig(raw: unknown): { config: PanelConfig | null; problem?: string } {
  if (!raw || typeof raw !== 'object') return { config: null, problem: 'config.js did not load' };
  const r = raw as Record<string, unknown>;
  if (typeof r.serverUrl !== 'string' || !/^https?:\/\//.test(r.serverUrl)) return { config: null, problem: 'config.js has no valid serverUrl' };
  if (typeof r.embedCredential !== 'string' || !r.embedCredential) return { config: null, problem: 'the embed credential is not set yet (connect the tenant)' };
  return { config: { serverUrl: r.serverUrl.replace(/\/+$/, ''), embedCredential: r.embedCredential } };
}
