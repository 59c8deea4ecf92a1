import { randomUUID } from 'node:crypto';
import type express from 'express';
import type { ApiRequest, ApiResponse, WebApi } from '../api.ts';
import { Codes, DataverseError } from '../errors.ts';
import { systemPrincipal } from '../org.ts';
import { parseKey, splitPath } from '../paths.ts';
import { nowIso, type OpContext } from '../store.ts';
import { parseJsonBody } from '../write.ts';
import { ImportCodes } from './errors.ts';
import { DEFAULT_MAIN_FORMS, defaultFormXml } from './forms.ts';
import { formPageRouter } from './formpage.ts';
import { readSolutionZip } from './package.ts';
import { SolutionRegistry, type ImportOptions } from './register.ts';
import { solutionTables } from './tables.ts';

/**
 * Solution import for the sandbox: the ImportSolution / StageAndUpgrade actions, uninstall through
 * `DELETE solutions(<id>)`, and the org-URL pages (web resources, main.aspx form). Wiring only; the
 * work is in package.ts (unzip + read), register.ts (check + apply + remove) and formpage.ts.
 */

export interface SolutionsOptions {
  /** Let an import with a lower version than the installed one through (Dataverse refuses it). */
  allowDowngrade?: boolean;
}

export interface Solutions {
  registry: SolutionRegistry;
  /** Mount on the org URL before the Web API handler. */
  router: express.Router;
}

export function registerSolutions(api: WebApi, options: SolutionsOptions = {}): Solutions {
  for (const t of solutionTables()) api.schema.addTable(t);
  const seedCtx: OpContext = { principal: systemPrincipal(), correlationId: 'seed', requestId: 'seed', depth: 1 };
  for (const f of DEFAULT_MAIN_FORMS) {
    api.store.create('systemform', {
      formid: f.formId, name: f.name, objecttypecode: f.entity, type: 2, formxml: defaultFormXml(f.fields), isdefault: true,
      formactivationstate: 1, formpresentation: 1, ismanaged: true, introducedversion: '5.0.0.0',
    }, seedCtx);
  }
  const registry = new SolutionRegistry(api);
  // One import at a time, as Dataverse serialises solution operations in an org.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn);
    queue = run.catch(() => undefined);
    return run;
  };

  const importAction = (mode: ImportOptions['mode']) => (req: ApiRequest): Promise<ApiResponse> => {
    const action = mode === 'update' ? 'ImportSolution' : 'StageAndUpgrade';
    if (req.method !== 'POST') throw new DataverseError(405, Codes.OData, `The HTTP method '${req.method}' is not allowed for ${action}; it is an action (POST).`);
    const body = parseJsonBody(req.body, action);
    const param = (name: string, type: string, ok: (v: unknown) => boolean) => {
      if (!ok(body[name])) throw new DataverseError(400, Codes.OData, `Parameter '${name}' of type '${type}' is required for the action '${action}' and was missing or not valid.`);
      return body[name];
    };
    const isBool = (v: unknown) => typeof v === 'boolean';
    const overwrite = param('OverwriteUnmanagedCustomizations', 'Edm.Boolean', isBool) as boolean;
    param('PublishWorkflows', 'Edm.Boolean', isBool);
    const file = param('CustomizationFile', 'Edm.Binary', (v) => typeof v === 'string' && v.length > 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(v)) as string;
    const jobId = param('ImportJobId', 'Edm.Guid', (v) => typeof v === 'string' && /^[0-9a-fA-F-]{36}$/.test(v)) as string;
    if (body.HoldingSolution === true) throw new DataverseError(400, ImportCodes.ImportSolutionError, 'HoldingSolution imports are not imitated by the sandbox; use StageAndUpgrade.');
    return serial(async () => {
      const started = nowIso();
      let solutionName = '';
      try {
        const { pkg } = await readSolutionZip(Buffer.from(file, 'base64'));
        solutionName = pkg.uniqueName;
        const opts: ImportOptions = { overwriteUnmanagedCustomizations: overwrite, mode, allowDowngrade: !!options.allowDowngrade };
        registry.check(pkg, opts);
        await registry.apply(pkg, opts, req.principal, req.requestId);
        recordJob(api, jobId, solutionName, started, null);
      } catch (err) {
        recordJob(api, jobId, solutionName, started, err instanceof DataverseError ? err : new DataverseError(500, ImportCodes.ImportSolutionError, String(err)));
        throw err;
      }
      if (mode === 'update') return { status: 204, headers: {} };
      return { status: 200, headers: {}, json: { '@odata.context': `${api.base}$metadata#Microsoft.Dynamics.CRM.StageAndUpgradeResponse`, ImportJobKey: jobId } };
    });
  };
  api.route('ImportSolution', importAction('update'));
  api.route('StageAndUpgrade', importAction('upgrade'));

  // Customisations here take effect at once, so publishing only checks its request the way Dataverse does.
  api.route('PublishXml', (req) => {
    if (req.method !== 'POST') throw new DataverseError(405, Codes.OData, `The HTTP method '${req.method}' is not allowed for PublishXml; it is an action (POST).`);
    const body = parseJsonBody(req.body, 'PublishXml');
    if (typeof body.ParameterXml !== 'string' || !/^\s*<importexportxml>[\s\S]*<\/importexportxml>\s*$/.test(body.ParameterXml)) {
      throw new DataverseError(400, Codes.OData, `Parameter 'ParameterXml' of type 'Edm.String' is required for the action 'PublishXml' and was missing or not valid.`);
    }
    return { status: 204, headers: {} };
  });
  api.route('PublishAllXml', (req) => {
    if (req.method !== 'POST') throw new DataverseError(405, Codes.OData, `The HTTP method '${req.method}' is not allowed for PublishAllXml; it is an action (POST).`);
    return { status: 204, headers: {} };
  });

  // DELETE solutions(<id>) uninstalls an imported solution; every other solutions request is plain CRUD.
  api.route('solutions', (req) => {
    const segments = splitPath(req.path);
    if (req.method !== 'DELETE' || segments.length !== 1 || !segments[0].includes('(')) return undefined;
    const key = parseKey(decodeURIComponent(segments[0].slice(segments[0].indexOf('(') + 1, -1)));
    const installed = key.kind === 'id' ? registry.bySolutionId(key.id) : undefined;
    if (!installed) return undefined;
    return serial(async () => {
      registry.uninstall(installed, req.principal, req.requestId);
      return { status: 204, headers: {} };
    });
  });

  const orgName = () => String([...api.store.rows('organization')][0]?.name ?? 'sandbox');
  return { registry, router: formPageRouter({ store: api.store, schema: api.schema, orgName }) };
}

/** The importjob row a client reads after the call (progress 100, data = result XML). */
function recordJob(api: WebApi, jobId: string, solutionName: string, started: string, error: DataverseError | null): void {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const result = error ? `<result result="failure" errorcode="${esc(error.code)}" errortext="${esc(error.message)}" />` : '<result result="success" errorcode="0" errortext="" />';
  const values = {
    name: 'Customizations', solutionname: solutionName, progress: 100, startedon: started, completedon: nowIso(),
    data: `<importexportxml><solutionManifests><solutionManifest languagecode="1033" id="${esc(solutionName)}">${result}</solutionManifest></solutionManifests></importexportxml>`,
  };
  const ctx: OpContext = { principal: systemPrincipal(), correlationId: randomUUID(), requestId: randomUUID(), depth: 1 };
  const id = jobId.toLowerCase();
  if (api.store.get('importjob', id)) api.store.update('importjob', id, values, ctx);
  else api.store.create('importjob', { ...values, importjobid: id }, ctx);
}
