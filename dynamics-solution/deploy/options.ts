import { existsSync, readFileSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { PackageType } from '../generate.ts';
import { checkPrefix, checkServerUrl, checkVersion, DEFAULT_OPTIONS, OptionError } from '../options.ts';

/**
 * `npm run deploy-solution` options: flags first, then the environment, then (for the Dynamics target) the
 * sandbox file and finally the tenant's settings on the sync server. Secrets come only from the environment:
 * flags end up in shell history and in every `ps` listing.
 */

export const USAGE = `Usage: npm run deploy-solution -- [options]

Imports the HubSpot sync solution into a Dynamics 365 org and connects it to the sync server.

Where to deploy (flag or environment; defaults come from the tenant's settings on the sync server):
  --org-url <url>          DYNAMICS_ORG_URL        environment URL, e.g. https://contoso.crm.dynamics.com
  --tenant-id <id>         DYNAMICS_TENANT_ID      Entra (Azure AD) tenant id of the org
  --authority-url <url>    DYNAMICS_AUTHORITY_URL  Entra authority, instead of --tenant-id (other clouds)
  --client-id <id>         DYNAMICS_CLIENT_ID      app registration of an application user in the org
                           DYNAMICS_CLIENT_SECRET  its client secret (environment only)

The sync server:
  --server-url <url>       SYNC_SERVER_URL         the server's public base URL (https)
  --sync-tenant <id>       SYNC_TENANT             the tenant's id on the server
                           SYNC_API_KEY            the tenant's API key: the webhook key and the embed
                                                   credential are read from the server with it
                           DYNAMICS_WEBHOOK_KEY    the tenant's webhook key (instead of reading it)
                           SYNC_EMBED_CREDENTIAL   the HubSpot tab's embed credential (instead of reading it)

What to import:
  --zip <file>             a zip from npm run package-solution (default: build one now)
  --version <a.b.c.d>      version of the zip built now (default ${DEFAULT_OPTIONS.version})
  --prefix <prefix>        publisher prefix of the zip built now (default: the tenant's, else ${DEFAULT_OPTIONS.prefix})
  --managed | --unmanaged  package type (default managed)
  --overwrite-unmanaged    let the import replace unmanaged changes made on top of our components
  --skip-import            do not import: connect the installed solution and check it (e.g. after pac)

  --sandbox <file>         the JSON line of npm run sandbox -- --json: trust the local Dataverse sandbox
                           and take its org URL and app credentials as defaults
  --help                   show this help

Exit status: 0 deployed and every step live, 1 Dynamics or the server refused (the message says why),
2 bad or missing options, 3 deployed but a check failed (a step missing or disabled, endpoint URL wrong).`;

export class DeployOptionError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'DeployOptionError';
  }
}

/** What msal needs to trust the local sandbox's token endpoint (see connectors/dataverse/token.ts). */
export interface SandboxTrust {
  caCert: string;
  authorityMetadata: string;
  cloudDiscoveryMetadata: string;
}

export interface DynamicsTarget {
  orgUrl?: string;
  tenantId?: string;
  authorityUrl?: string;
  clientId?: string;
  clientSecret?: string;
}

export interface DeployOptions {
  serverUrl: string;
  syncTenant: string;
  apiKey?: string;
  webhookKey?: string;
  embedCredential?: string;
  /** From flags and environment only; gaps are filled later (sandbox file, then the server). */
  dynamics: DynamicsTarget;
  sandbox?: { trust: SandboxTrust; defaults: DynamicsTarget };
  zip?: { path: string; bytes: Buffer };
  version?: string;
  prefix?: string;
  type?: PackageType;
  overwriteUnmanaged: boolean;
  skipImport: boolean;
}

const SECRET_FLAGS: Record<string, string> = {
  'client-secret': 'DYNAMICS_CLIENT_SECRET',
  'api-key': 'SYNC_API_KEY',
  'webhook-key': 'DYNAMICS_WEBHOOK_KEY',
  'embed-credential': 'SYNC_EMBED_CREDENTIAL',
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https, or http on this machine (the local sandbox); returns the URL without a trailing slash. */
function checkHttpsUrl(raw: string, source: string, example: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DeployOptionError([`${source} '${raw}' is not a URL, e.g. ${example}.`]);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new DeployOptionError([`${source} '${raw}' must use https (plain http only for a sandbox on 127.0.0.1 or localhost).`]);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

function readSandboxFile(path: string): DeployOptions['sandbox'] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new DeployOptionError([`--sandbox ${path}: ${(err as Error).message}. Save the line printed by npm run sandbox -- --json in it.`]);
  }
  const root = (parsed ?? {}) as Record<string, unknown>;
  const d = (typeof root.dataverse === 'object' && root.dataverse ? root.dataverse : root) as Record<string, unknown>;
  const str = (k: string) => (typeof d[k] === 'string' && d[k] ? (d[k] as string) : undefined);
  const caCert = str('caCert');
  const authorityMetadata = str('authorityMetadata');
  const cloudDiscoveryMetadata = str('cloudDiscoveryMetadata');
  if (!caCert || !authorityMetadata || !cloudDiscoveryMetadata) {
    throw new DeployOptionError([`--sandbox ${path} has no dataverse caCert, authorityMetadata and cloudDiscoveryMetadata: use the line printed by npm run sandbox -- --json.`]);
  }
  return {
    trust: { caCert, authorityMetadata, cloudDiscoveryMetadata },
    defaults: { orgUrl: str('orgUrl'), tenantId: str('tenantId'), authorityUrl: str('authorityUrl'), clientId: str('clientId'), clientSecret: str('clientSecret') },
  };
}

/** Flags + environment → options, or every problem found at once. `null` means --help was asked for. */
export function parseDeployOptions(argv: string[], env: Record<string, string | undefined>): DeployOptions | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'org-url': { type: 'string' },
        'tenant-id': { type: 'string' },
        'authority-url': { type: 'string' },
        'client-id': { type: 'string' },
        'server-url': { type: 'string' },
        'sync-tenant': { type: 'string' },
        zip: { type: 'string' },
        version: { type: 'string' },
        prefix: { type: 'string' },
        managed: { type: 'boolean' },
        unmanaged: { type: 'boolean' },
        'overwrite-unmanaged': { type: 'boolean' },
        'skip-import': { type: 'boolean' },
        sandbox: { type: 'string' },
        help: { type: 'boolean' },
        ...Object.fromEntries(Object.keys(SECRET_FLAGS).map((k) => [k, { type: 'string' as const }])),
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (err) {
    throw new DeployOptionError([(err as Error).message]);
  }
  if (values.help) return null;

  const problems: string[] = [];
  const v = values as Record<string, string | boolean | undefined>;
  for (const [flag, name] of Object.entries(SECRET_FLAGS)) {
    if (v[flag] !== undefined) problems.push(`--${flag} is not accepted: secrets passed as flags stay in shell history and process lists. Set ${name} in the environment instead.`);
  }
  const pick = (flag: string, name: string): string | undefined => {
    const value = (v[flag] as string | undefined) ?? env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const secret = (name: string) => (env[name] ? env[name] : undefined);
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof OptionError) problems.push(err.message);
      else if (err instanceof DeployOptionError) problems.push(...err.problems);
      else throw err;
      return undefined;
    }
  };

  const rawServerUrl = pick('server-url', 'SYNC_SERVER_URL');
  const serverUrl = rawServerUrl === undefined
    ? (problems.push('--server-url (or SYNC_SERVER_URL) is required: the sync server\'s public base URL, e.g. https://sync.example.com.'), '')
    : (attempt(() => checkServerUrl(rawServerUrl)) ?? '');
  const syncTenant = pick('sync-tenant', 'SYNC_TENANT');
  if (!syncTenant) problems.push('--sync-tenant (or SYNC_TENANT) is required: the tenant\'s id on the sync server (GET /api/tenants/<id>).');
  const apiKey = secret('SYNC_API_KEY');
  const webhookKey = secret('DYNAMICS_WEBHOOK_KEY');
  if (!apiKey && !webhookKey) {
    problems.push('Set SYNC_API_KEY (the tenant\'s API key, to read its webhook key from the sync server) or DYNAMICS_WEBHOOK_KEY (the webhook key itself).');
  }

  const rawOrgUrl = pick('org-url', 'DYNAMICS_ORG_URL');
  const rawAuthority = pick('authority-url', 'DYNAMICS_AUTHORITY_URL');
  const dynamics: DynamicsTarget = {
    orgUrl: rawOrgUrl === undefined ? undefined : attempt(() => checkHttpsUrl(rawOrgUrl, '--org-url', 'https://contoso.crm.dynamics.com')),
    tenantId: pick('tenant-id', 'DYNAMICS_TENANT_ID'),
    authorityUrl: rawAuthority === undefined ? undefined : attempt(() => checkHttpsUrl(rawAuthority, '--authority-url', 'https://login.microsoftonline.us/<tenant id>')),
    clientId: pick('client-id', 'DYNAMICS_CLIENT_ID'),
    clientSecret: secret('DYNAMICS_CLIENT_SECRET'),
  };
  const sandbox = typeof v.sandbox === 'string' ? attempt(() => readSandboxFile(v.sandbox as string)) : undefined;

  const skipImport = Boolean(v['skip-import']);
  if (v.managed && v.unmanaged) problems.push('--managed and --unmanaged exclude each other: pick one.');
  const type: PackageType | undefined = v.unmanaged ? 'unmanaged' : v.managed ? 'managed' : undefined;
  if (skipImport) {
    const importOnly = ['zip', 'version', 'prefix', 'managed', 'unmanaged', 'overwrite-unmanaged'].filter((f) => v[f] !== undefined);
    if (importOnly.length) problems.push(`--skip-import imports nothing, so ${importOnly.map((f) => `--${f}`).join(', ')} would be ignored: drop them, or drop --skip-import.`);
  }
  let zip: DeployOptions['zip'];
  if (typeof v.zip === 'string') {
    if (v.version !== undefined || v.prefix !== undefined) problems.push('--version and --prefix describe a zip built now; with --zip the zip\'s own version and prefix are used: drop them.');
    if (!existsSync(v.zip) || !statSync(v.zip).isFile()) problems.push(`--zip ${v.zip}: no such file. Build one with npm run package-solution, or leave --zip out to build it now.`);
    else zip = { path: v.zip, bytes: readFileSync(v.zip) };
  }
  const version = typeof v.version === 'string' ? attempt(() => checkVersion(v.version as string)) : undefined;
  const prefix = typeof v.prefix === 'string' ? attempt(() => checkPrefix(v.prefix as string)) : undefined;

  if (problems.length) throw new DeployOptionError(problems);
  return {
    serverUrl, syncTenant: syncTenant!, apiKey, webhookKey, embedCredential: secret('SYNC_EMBED_CREDENTIAL'),
    dynamics, sandbox, zip, version, prefix, type, overwriteUnmanaged: Boolean(v['overwrite-unmanaged']), skipImport,
  };
}

/** The Dynamics target once every source is in: flags/env, then the sandbox file, then the server's settings. */
export function resolveDynamicsTarget(o: DeployOptions, fromServer: DynamicsTarget | undefined): Required<Pick<DynamicsTarget, 'orgUrl' | 'clientId' | 'clientSecret'>> & DynamicsTarget {
  const layers = [o.dynamics, o.sandbox?.defaults ?? {}, fromServer ?? {}];
  const first = (k: keyof DynamicsTarget) => layers.map((l) => l[k]).find((x) => x !== undefined && x !== null && x !== '');
  const problems: string[] = [];
  const orgUrl = first('orgUrl');
  if (!orgUrl) problems.push('Set --org-url or DYNAMICS_ORG_URL: the Dynamics environment URL, e.g. https://contoso.crm.dynamics.com (the tenant on the sync server has none).');
  const clientId = first('clientId');
  if (!clientId) problems.push('Set --client-id or DYNAMICS_CLIENT_ID: the application (client) id of the app registration behind the org\'s application user.');
  const clientSecret = first('clientSecret');
  if (!clientSecret) problems.push('Set DYNAMICS_CLIENT_SECRET: a client secret of that app registration.');
  const tenantId = first('tenantId');
  const authorityUrl = first('authorityUrl');
  if (!tenantId && !authorityUrl) problems.push('Set --tenant-id or DYNAMICS_TENANT_ID: the Entra tenant (directory) id of the org (or --authority-url for another cloud).');
  if (problems.length) throw new DeployOptionError(problems);
  return { orgUrl: orgUrl!, clientId: clientId!, clientSecret: clientSecret!, tenantId, authorityUrl };
}
