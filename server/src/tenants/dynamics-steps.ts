import type { DataverseConnector, SdkStep } from '../connectors/dataverse/connector.ts';
import { DATAVERSE_ENDPOINT_NAME } from './webhooks.ts';

/**
 * The tenant's webhook inside Dynamics, however it got there (the managed solution or
 * `registerDataverseWebhook`): every service endpoint named "HubSpot sync" and the SDK steps that post to it.
 * Dataverse has no on/off switch on a service endpoint; it stops calling one when every step that uses it is
 * disabled. So switching "the endpoint" off means switching all of its steps off, and nothing else.
 */

export type StepsDynamics = Pick<DataverseConnector, 'retrieveAll' | 'listSteps' | 'setStepEnabled'>;

export interface SyncEndpoint {
  id: string;
  name: string;
  url: string | null;
  steps: SdkStep[];
}

export interface StepChange {
  id: string;
  name: string;
  endpointId: string;
  enabled: boolean;
  /** False when the step already was in the requested state (the call is idempotent). */
  changed: boolean;
}

/** A Dataverse call failed part-way: `done` lists what was already switched before it. */
export class StepSwitchError extends Error {
  constructor(cause: unknown, readonly done: StepChange[]) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'StepSwitchError';
  }
}

export async function syncEndpoints(dynamics: StepsDynamics): Promise<SyncEndpoint[]> {
  const rows = await dynamics.retrieveAll('serviceendpoint', {
    select: ['name', 'url'], filter: `name eq '${DATAVERSE_ENDPOINT_NAME}'`, orderBy: ['serviceendpointid'], annotations: false,
  });
  const out: SyncEndpoint[] = [];
  for (const row of rows) {
    const id = String(row.serviceendpointid);
    const steps = await dynamics.listSteps(`_eventhandler_value eq ${id}`);
    steps.sort((a, b) => a.name.localeCompare(b.name));
    out.push({ id, name: String(row.name ?? ''), url: (row.url as string | null) ?? null, steps });
  }
  return out;
}

/** Enables or disables every step of the tenant's endpoint(s); only steps in the other state are written. */
export async function switchSyncSteps(dynamics: StepsDynamics, endpoints: SyncEndpoint[], enabled: boolean): Promise<StepChange[]> {
  const done: StepChange[] = [];
  for (const endpoint of endpoints) {
    for (const step of endpoint.steps) {
      const changed = step.enabled !== enabled;
      if (changed) {
        try {
          await dynamics.setStepEnabled(step.id, enabled);
        } catch (err) {
          throw new StepSwitchError(err, done);
        }
      }
      done.push({ id: step.id, name: step.name, endpointId: endpoint.id, enabled, changed });
    }
  }
  return done;
}
