import { syncEndpoints, type StepsDynamics, type SyncEndpoint } from '../../server/src/tenants/dynamics-steps.ts';
import type { SolutionDefinition } from '../definition.ts';

/**
 * After a deploy: is the solution's webhook live? Its endpoint must post to the tenant's URL and each of its
 * steps must be registered and enabled. Read the way the server's steps routes read them (every endpoint
 * named "HubSpot sync" and the steps that post to it), then compared with the definition's ids.
 */

export type StepState = 'enabled' | 'disabled' | 'missing';

export interface DeploymentCheck {
  endpointUrl: string | null;
  urlOk: boolean;
  steps: Array<{ id: string; name: string; state: StepState }>;
  /** Steps on our endpoint that this version does not define (left by an older version's plain import). */
  extraSteps: string[];
  /** Other endpoints with the same name (e.g. registered by the server before the solution): events would arrive twice. */
  twins: SyncEndpoint[];
  ok: boolean;
}

export async function checkDeployment(dynamics: StepsDynamics, def: SolutionDefinition, expectedUrl: string): Promise<DeploymentCheck> {
  const endpoints = await syncEndpoints(dynamics);
  const ours = endpoints.find((e) => e.id === def.endpoint.id);
  const registered = new Map((ours?.steps ?? []).map((s) => [s.id, s]));
  const steps = def.steps.map((d) => {
    const found = registered.get(d.id);
    const state: StepState = !found ? 'missing' : found.enabled ? 'enabled' : 'disabled';
    return { id: d.id, name: d.name, state };
  });
  const defined = new Set(def.steps.map((d) => d.id));
  const endpointUrl = ours?.url ?? null;
  const urlOk = endpointUrl === expectedUrl;
  return {
    endpointUrl, urlOk, steps,
    extraSteps: (ours?.steps ?? []).filter((s) => !defined.has(s.id)).map((s) => s.name),
    twins: endpoints.filter((e) => e !== ours && e.steps.some((s) => s.enabled)),
    ok: urlOk && steps.every((s) => s.state === 'enabled'),
  };
}
