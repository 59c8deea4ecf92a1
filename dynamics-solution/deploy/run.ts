import { ConnectorError } from '../../server/src/connectors/errors.ts';
import { connectRequests, webhookUrl } from '../connect.ts';
import { defineSolution, SOLUTION_UNIQUE_NAME } from '../definition.ts';
import { checkDeployment, type DeploymentCheck } from './check.ts';
import { ImportFailed, ImportRefused, installedSolution, openSession, planImport, runImport, send, signIn, SignInError, type DynamicsSession, type InstalledSolution } from './dynamics.ts';
import { DeployOptionError, resolveDynamicsTarget, type DeployOptions } from './options.ts';
import { buildPackage, PackageError, readPackage, type SolutionPackage } from './package.ts';
import { fetchTenantConnection, issueEmbedCredential, ServerError, type ServerAccess, type TenantConnection } from './server.ts';

/**
 * The deploy, step by step: tenant keys → sign in → package → import → connect → publish → check. Each step
 * prints one line as it completes; the first failure stops the run with the step's name and what to do.
 */

export const EXIT = { ok: 0, failed: 1, badOptions: 2, checkFailed: 3 } as const;

export class DeployFailure extends Error {
  constructor(readonly step: string, message: string, readonly exitCode: number) {
    super(message);
    this.name = 'DeployFailure';
  }
}

/** Errors a user can act on (their message says how); anything else is a bug and keeps its stack. */
const EXPECTED = [ServerError, SignInError, PackageError, ImportRefused, ImportFailed, ConnectorError];

const line = (status: 'ok' | 'skip' | 'warn' | 'FAIL', step: string, detail: string) => `  ${status.padEnd(4)} ${step.padEnd(12)} ${detail}`;

export async function deploy(o: DeployOptions, out: (text: string) => void): Promise<number> {
  const progress = { step: 'tenant keys' };
  try {
    out(`Deploying ${SOLUTION_UNIQUE_NAME} for tenant "${o.syncTenant}" of ${o.serverUrl}`);
    const access = o.apiKey ? { serverUrl: o.serverUrl, syncTenant: o.syncTenant, apiKey: o.apiKey } : undefined;
    const server = access && (await fetchTenantConnection(access));
    const webhookKey = o.webhookKey ?? server!.webhookKey;
    const { embedCredential, embedSource } = await embedCredentialFor(o, server, access);
    out(line('ok', progress.step, `webhook key from ${o.webhookKey ? 'DYNAMICS_WEBHOOK_KEY' : 'the sync server'}; embed credential ${embedSource}`));

    progress.step = 'sign in';
    const target = resolveDynamicsTarget(o, server?.dynamics);
    const serverOrg = server?.dynamics?.orgUrl?.replace(/\/+$/, '');
    if (serverOrg && serverOrg !== target.orgUrl) out(line('warn', progress.step, `the tenant syncs with ${serverOrg}, but this deploy goes to ${target.orgUrl}`));
    const s = openSession(target, o.sandbox?.trust);
    out(line('ok', progress.step, `${target.orgUrl} as application user ${await signIn(s)}`));

    const installed = await importStep(s, o, server, progress, out);

    progress.step = 'connect';
    const requests = connectRequests({ prefix: installed.prefix, serverUrl: o.serverUrl, tenantId: o.syncTenant, webhookKey, embedCredential });
    for (const r of requests) if (r.method === 'PATCH') await send(s, r);
    const url = webhookUrl({ prefix: installed.prefix, serverUrl: o.serverUrl, tenantId: o.syncTenant });
    out(line('ok', progress.step, `service endpoint posts to ${url} with the tenant's webhook key`));
    out(embedCredential
      ? line('ok', progress.step, `HubSpot tab config points at ${o.serverUrl} with the embed credential`)
      : line('warn', progress.step, 'HubSpot tab config left as it is: no embed credential (set SYNC_API_KEY so the server issues one, or SYNC_EMBED_CREDENTIAL)'));

    progress.step = 'publish';
    const publishes = requests.filter((r) => r.method === 'POST');
    for (const r of publishes) out(await published(s, r, 'the HubSpot tab config (config.js)'));
    if (!publishes.length) out(line('skip', progress.step, 'nothing to publish'));

    progress.step = 'check';
    const check = await checkDeployment(s.connector, defineSolution({ prefix: installed.prefix, serverUrl: o.serverUrl }), url);
    reportCheck(check, installed, out);
    if (!check.ok) {
      const disabled = check.steps.some((x) => x.state === 'disabled');
      out(`Deployed, but not live: ${disabled ? `enable the steps (POST ${o.serverUrl}/api/tenants/${o.syncTenant}/dynamics/steps/enable)` : 'run the deploy again without --skip-import, which restores missing components'}.`);
      return EXIT.checkFailed;
    }
    out(`Done: ${SOLUTION_UNIQUE_NAME} ${installed.version} (${installed.type}) sends lead, contact, account and opportunity changes to ${url}.`);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof DeployFailure) throw err;
    if (err instanceof DeployOptionError) throw new DeployFailure(progress.step, err.message, EXIT.badOptions);
    if (EXPECTED.some((E) => err instanceof E)) throw new DeployFailure(progress.step, (err as Error).message, EXIT.failed);
    throw err;
  }
}

/** package → import (or, with --skip-import, only the installed solution); returns what is installed now. */
async function importStep(s: DynamicsSession, o: DeployOptions, server: TenantConnection | undefined, progress: { step: string }, out: (text: string) => void): Promise<InstalledSolution> {
  progress.step = 'import';
  const before = await installedSolution(s);
  if (o.skipImport) {
    if (!before) throw new DeployFailure(progress.step, `${SOLUTION_UNIQUE_NAME} is not installed in ${s.connector.orgUrl}: import it first (run without --skip-import, or pac solution import).`, EXIT.failed);
    out(line('skip', progress.step, `--skip-import: ${before.version} (${before.type}) stays as it is`));
    return before;
  }
  progress.step = 'package';
  const pkg = await choosePackage(o, server);
  out(line('ok', progress.step, `${pkg.source}: ${pkg.type} ${pkg.version}, prefix ${pkg.prefix}`));
  progress.step = 'import';
  const plan = planImport(before, pkg);
  const started = Date.now();
  const { importJobId } = await runImport(s, pkg, plan, { overwriteUnmanaged: o.overwriteUnmanaged });
  out(line('ok', progress.step, `${plan.summary} with ${plan.action} in ${((Date.now() - started) / 1000).toFixed(1)} s (import job ${importJobId})`));
  // Unmanaged components reach users only once published; a managed import publishes its own.
  if (pkg.type === 'unmanaged') out(await published(s, { method: 'POST', path: 'PublishAllXml', action: 'PublishAllXml', body: {}, secret: false }, 'all customizations (unmanaged import)'));
  const after = await installedSolution(s);
  if (!after) throw new DeployFailure(progress.step, `Dynamics accepted the import, but ${SOLUTION_UNIQUE_NAME} is not listed among its solutions.`, EXIT.failed);
  return after;
}

function reportCheck(check: DeploymentCheck, installed: InstalledSolution, out: (text: string) => void): void {
  const live = check.steps.filter((x) => x.state === 'enabled').length;
  const url = check.urlOk ? 'as set' : `is ${check.endpointUrl ?? '(no endpoint)'}`;
  out(line(check.ok ? 'ok' : 'FAIL', 'check', `${live} of ${check.steps.length} SDK steps registered and enabled; endpoint URL ${url}`));
  for (const x of check.steps) out(`${' '.repeat(20)}${x.state.padEnd(9)}${x.name}`);
  for (const name of check.extraSteps) out(line('warn', 'check', `"${name}" is not part of ${installed.version} any more: delete it in Dynamics, or upgrade with a managed package`));
  for (const twin of check.twins) out(line('warn', 'check', `another endpoint named "${twin.name}" (${twin.id}) also posts to ${twin.url ?? '?'}: events arrive twice; disable or delete its steps`));
}

/** The caller's own credential, else the tenant's on the server, else a first one the server issues now. */
async function embedCredentialFor(o: DeployOptions, server: TenantConnection | undefined, access: ServerAccess | undefined): Promise<{ embedCredential?: string; embedSource: string }> {
  if (o.embedCredential) return { embedCredential: o.embedCredential, embedSource: 'from SYNC_EMBED_CREDENTIAL' };
  if (server?.embedCredential) return { embedCredential: server.embedCredential, embedSource: 'from the sync server' };
  const issued = access && (await issueEmbedCredential(access));
  if (issued) return { embedCredential: issued, embedSource: 'issued now by the sync server (the tenant had none)' };
  return { embedSource: access ? 'not available (this server cannot issue one)' : 'not available (no SYNC_API_KEY)' };
}

async function choosePackage(o: DeployOptions, server: TenantConnection | undefined): Promise<SolutionPackage> {
  if (!o.zip) return buildPackage({ serverUrl: o.serverUrl, version: o.version, prefix: o.prefix ?? server?.prefix, type: o.type ?? 'managed' });
  const pkg = await readPackage(o.zip.path, o.zip.bytes);
  if (o.type && o.type !== pkg.type) throw new DeployOptionError([`--${o.type} was given, but ${o.zip.path} is a ${pkg.type} solution: drop the flag or pick the other zip.`]);
  return pkg;
}

/** Publishing makes a changed web resource (and, for unmanaged imports, every component) visible to users. */
async function published(s: DynamicsSession, r: Parameters<typeof send>[1], what: string): Promise<string> {
  await send(s, r);
  return line('ok', 'publish', `published ${what}`);
}
