import { randomUUID } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import { DataverseCaller } from '../../server/src/connectors/dataverse/client.ts';
import { DataverseConnector } from '../../server/src/connectors/dataverse/connector.ts';
import { createDataverseTokenSource, type DataverseTokenSource } from '../../server/src/connectors/dataverse/token.ts';
import { ConnectorError } from '../../server/src/connectors/errors.ts';
import type { ConnectRequest } from '../connect.ts';
import { SOLUTION_UNIQUE_NAME } from '../definition.ts';
import type { PackageType } from '../generate.ts';
import type { SandboxTrust } from './options.ts';
import type { SolutionPackage } from './package.ts';

/**
 * The Dynamics half of a deploy, on the server's own Dataverse client (msal client credentials +
 * dynamics-web-api, with its retries and error messages), so the deploy talks to real Dynamics and to the
 * sandbox exactly as the sync server does.
 */

export interface DynamicsSession {
  tokens: DataverseTokenSource;
  connector: DataverseConnector;
  /** Connect requests by entity set name, with the usual retries. */
  caller: DataverseCaller;
  /** Imports: one attempt (a repeated import would queue behind the first) and time for a slow org. */
  importCaller: DataverseCaller;
}

const IMPORT_TIMEOUT_MS = 20 * 60_000;

export function openSession(t: { orgUrl: string; tenantId?: string; authorityUrl?: string; clientId: string; clientSecret: string }, sandbox?: SandboxTrust): DynamicsSession {
  const tokens = createDataverseTokenSource({ ...t, sandbox });
  return {
    tokens,
    connector: new DataverseConnector({ orgUrl: t.orgUrl, tokens }),
    caller: new DataverseCaller({ orgUrl: t.orgUrl, tokens }),
    importCaller: new DataverseCaller({ orgUrl: t.orgUrl, tokens, retry: { maxAttempts: 1, timeoutMs: IMPORT_TIMEOUT_MS } }),
  };
}

export class SignInError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignInError';
  }
}

/** A token first (a wrong secret fails here, once, with Entra's message), then WhoAmI (is there an application user?). */
export async function signIn(s: DynamicsSession): Promise<string> {
  try {
    await s.tokens.getToken();
  } catch (err) {
    throw new SignInError(`Entra refused the client credentials: ${(err as Error).message.replace(/\r\n/g, '\n')}\nCheck DYNAMICS_CLIENT_ID, DYNAMICS_CLIENT_SECRET and DYNAMICS_TENANT_ID.`);
  }
  try {
    return (await s.connector.whoAmI()).userId;
  } catch (err) {
    if (!(err instanceof ConnectorError) || (err.status !== 401 && err.status !== 403)) throw err;
    throw new SignInError(`${err.message}\nThe app signed in, but the org does not accept it: add it as an application user with a security role (Power Platform admin center → Environments → Settings → Users + permissions → Application users).`);
  }
}

export interface InstalledSolution {
  version: string;
  type: PackageType;
  prefix: string;
}

export async function installedSolution(s: DynamicsSession): Promise<InstalledSolution | null> {
  const [row] = await s.connector.retrieveAll('solution', {
    select: ['version', 'ismanaged', '_publisherid_value'], filter: `uniquename eq '${SOLUTION_UNIQUE_NAME}'`, annotations: false,
  });
  if (!row) return null;
  const publisher = await s.connector.retrieve('publisher', String(row._publisherid_value), ['customizationprefix']);
  return { version: String(row.version), type: row.ismanaged ? 'managed' : 'unmanaged', prefix: String(publisher?.customizationprefix ?? '') };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

export interface ImportPlan {
  action: 'ImportSolution' | 'StageAndUpgrade';
  /** What the user reads: installed, re-imported, upgraded … */
  summary: string;
}

export class ImportRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportRefused';
  }
}

/**
 * A first install and a re-import of the same version are plain imports (an update: Dynamics keeps what is
 * there and adds or changes the rest). A higher version of a managed solution is an upgrade
 * (StageAndUpgrade), which also removes components the new version no longer has. Dynamics refuses a lower
 * version and a change of package type; saying so before uploading gives the clearer message.
 */
export function planImport(installed: InstalledSolution | null, pkg: SolutionPackage): ImportPlan {
  if (!installed) return { action: 'ImportSolution', summary: `installed ${pkg.version} (${pkg.type})` };
  if (installed.type !== pkg.type) {
    throw new ImportRefused(`${SOLUTION_UNIQUE_NAME} is installed as ${installed.type} and this package is ${pkg.type}: Dynamics cannot change a solution's type by import. Deploy with --${installed.type}, or uninstall the solution first.`);
  }
  if (installed.prefix && installed.prefix !== pkg.prefix) {
    throw new ImportRefused(`${SOLUTION_UNIQUE_NAME} is installed with the prefix '${installed.prefix}' and this package uses '${pkg.prefix}': component names would not match. Build it with --prefix ${installed.prefix}.`);
  }
  const order = compareVersions(pkg.version, installed.version);
  if (order < 0) {
    throw new ImportRefused(`${SOLUTION_UNIQUE_NAME} ${installed.version} is installed and this package is ${pkg.version}: Dynamics refuses a lower version. Deploy ${installed.version} or higher (--version), or --skip-import to only reconnect.`);
  }
  if (order === 0) return { action: 'ImportSolution', summary: `re-imported ${pkg.version} (already installed; components refreshed)` };
  return pkg.type === 'managed'
    ? { action: 'StageAndUpgrade', summary: `upgraded ${installed.version} → ${pkg.version}` }
    : { action: 'ImportSolution', summary: `updated ${installed.version} → ${pkg.version} (unmanaged)` };
}

export class ImportFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportFailed';
  }
}

/** Runs the import under a fresh ImportJobId; on failure Dynamics' own text plus what the import job recorded. */
export async function runImport(s: DynamicsSession, pkg: SolutionPackage, plan: ImportPlan, o: { overwriteUnmanaged: boolean }): Promise<{ importJobId: string }> {
  const importJobId = randomUUID();
  try {
    await s.importCaller.call(plan.action, SOLUTION_UNIQUE_NAME, (api) => api.callAction({
      actionName: plan.action,
      action: { OverwriteUnmanagedCustomizations: o.overwriteUnmanaged, PublishWorkflows: true, CustomizationFile: pkg.bytes.toString('base64'), ImportJobId: importJobId },
    }));
  } catch (err) {
    if (!(err instanceof ConnectorError)) throw err;
    const details = (await importJobFailures(s, importJobId)).filter((t) => t !== err.serviceMessage);
    const code = err.code ? ` [${err.code}]` : '';
    const status = err.status === 'network' ? 'no response' : `HTTP ${err.status}`;
    throw new ImportFailed(`Dynamics refused ${plan.action} (${status}${code}, import job ${importJobId}): ${err.serviceMessage}${details.map((d) => `\n  import job: ${d}`).join('')}`);
  }
  return { importJobId };
}

/** The failure texts the import job's result XML holds (none when the job was never created). */
async function importJobFailures(s: DynamicsSession, importJobId: string): Promise<string[]> {
  const job = await s.connector.retrieve('importjob', importJobId, ['data']).catch(() => null);
  if (typeof job?.data !== 'string') return [];
  const texts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n['@_result'] === 'failure' && typeof n['@_errortext'] === 'string' && n['@_errortext']) texts.push(n['@_errortext']);
    Object.values(n).forEach(walk);
  };
  walk(new XMLParser({ ignoreAttributes: false }).parse(job.data));
  return [...new Set(texts)];
}

/** PATCHes by entity set and id (never creating a row), actions by name. */
export async function send(s: DynamicsSession, r: ConnectRequest): Promise<void> {
  if (r.method === 'PATCH') {
    await s.caller.call(`update ${r.entitySet}`, r.path, async (api, ctx) => {
      ctx.status = 204;
      await api.update({ collection: r.entitySet, key: r.id, data: r.body, ifmatch: '*' });
    });
    return;
  }
  await s.caller.call(r.action, undefined, (api) => api.callAction({ actionName: r.action, action: r.body }));
}

