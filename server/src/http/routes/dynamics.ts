import express, { type Response } from 'express';
import { ConnectorError } from '../../connectors/errors.ts';
import type { Store } from '../../store/index.ts';
import type { Tenant } from '../../store/repositories/tenants.ts';
import { StepSwitchError, switchSyncSteps, syncEndpoints, type StepsDynamics, type SyncEndpoint } from '../../tenants/dynamics-steps.ts';
import { SECRET_NAMES, parseTenantSettings } from '../../tenants/settings.ts';
import { HttpError } from '../errors.ts';
import { requireTenantKey } from '../tenant-auth.ts';

export interface DynamicsRoutesDeps {
  store: Store;
  /** The tenant's cached connectors (TenantContexts). */
  contexts: { get(tenantId: string): Promise<{ dynamics: StepsDynamics }> };
}

const tenantOf = (res: Response) => res.locals.tenant as Tenant;

function stepView(endpoint: SyncEndpoint) {
  return endpoint.steps.map((s) => ({ id: s.id, name: s.name, endpointId: endpoint.id, enabled: s.enabled }));
}

/**
 * /api/tenants/:id/dynamics/… — the tenant's webhook in its Dynamics org (state of the SDK steps, switching
 * them off and on for the move to production) and what the deploy tool needs to connect the solution.
 * Same bearer key as the rest of the admin API; every call works on the org of the tenant in the path.
 */
export function dynamicsRouter(deps: DynamicsRoutesDeps): express.Router {
  const { store } = deps;
  const r = express.Router({ mergeParams: true });
  r.use(requireTenantKey(store));

  async function endpointsOf(t: Tenant): Promise<{ dynamics: StepsDynamics; endpoints: SyncEndpoint[] }> {
    if (!parseTenantSettings(t.settings).dynamics) {
      throw new HttpError(409, 'not_connected', `Tenant ${t.id} is not connected to Dynamics: connect it with the org URL and the app's client credentials first.`);
    }
    let dynamics: StepsDynamics;
    try {
      ({ dynamics } = await deps.contexts.get(t.id));
    } catch (err) {
      throw new HttpError(409, 'not_connected', (err as Error).message);
    }
    const endpoints = await syncEndpoints(dynamics);
    if (!endpoints.length) {
      throw new HttpError(409, 'webhook_not_installed', `The Dynamics org ${t.dataverseOrgUrl ?? ''} has no service endpoint named "HubSpot sync": install the solution (npm run deploy-solution) or register the webhook first.`);
    }
    return { dynamics, endpoints };
  }

  /** Dynamics refused or was unreachable: 502 with its own message, plus the steps already switched. */
  const dynamicsCall = (run: (t: Tenant) => Promise<unknown>) => async (_req: express.Request, res: Response) => {
    try {
      res.json(await run(tenantOf(res)));
    } catch (err) {
      const cause = err instanceof StepSwitchError ? err.cause : err;
      if (!(cause instanceof ConnectorError)) throw cause;
      res.status(502).json({ error: { code: 'dynamics_error', message: cause.message }, steps: err instanceof StepSwitchError ? err.done : [] });
    }
  };

  r.get('/steps', dynamicsCall(async (t) => {
    const { endpoints } = await endpointsOf(t);
    return { endpoints: endpoints.map((e) => ({ id: e.id, name: e.name, url: e.url })), steps: endpoints.flatMap(stepView) };
  }));

  for (const [action, enabled] of [['enable', true], ['disable', false]] as const) {
    r.post(`/steps/${action}`, dynamicsCall(async (t) => {
      const { dynamics, endpoints } = await endpointsOf(t);
      const steps = await switchSyncSteps(dynamics, endpoints, enabled);
      return { enabled, changed: steps.filter((s) => s.changed).length, steps };
    }));
  }

  // Secrets the solution's connect step writes into Dynamics; only this tenant's key may read them.
  r.get('/connection', async (_req, res) => {
    const t = tenantOf(res);
    const webhookKey = await store.secrets.get(t.id, SECRET_NAMES.dynamicsWebhookKey);
    if (!webhookKey) throw new HttpError(409, 'no_webhook_key', `Tenant ${t.id} has no Dynamics webhook key stored: recreate or reconnect the tenant.`);
    const embedCredential = (await store.secrets.get(t.id, SECRET_NAMES.embedCredential)) ?? null;
    const settings = parseTenantSettings(t.settings);
    const d = settings.dynamics;
    res.setHeader('cache-control', 'no-store');
    res.json({
      tenantId: t.id,
      prefix: settings.prefix,
      dynamics: d ? { orgUrl: d.orgUrl, tenantId: d.tenantId ?? null, authorityUrl: d.authorityUrl ?? null, clientId: d.clientId } : null,
      webhookKey,
      embedCredential,
    });
  });

  return r;
}
