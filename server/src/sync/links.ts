import type { DynamicsRef, HubSpotRef, Link } from '../store/repositories/links.ts';
import type { SyncRun } from './run.ts';

/**
 * Links the records of a group that were just matched or created on the other side: one insert for all of
 * them, then each one that collided (either side already linked, e.g. by a concurrent job) through `single`,
 * which reuses the same link or says why it cannot link.
 */
export async function attachLinks<P extends { link: Link | undefined }>(
  run: SyncRun,
  plans: P[],
  pair: (p: P) => { dynamics: DynamicsRef; hubspot: HubSpotRef },
  single: (p: P) => Promise<Link>,
  fail: (p: P, error: unknown) => void,
): Promise<void> {
  const fresh = plans.filter((p) => !p.link);
  const created = await run.store.links.createMany(run.ctx.tenantId, fresh.map(pair));
  const byDynamics = new Map(created.map((l) => [`${l.dynamics.entity}:${l.dynamics.id}`, l]));
  for (const p of fresh) {
    const { dynamics } = pair(p);
    p.link = byDynamics.get(`${dynamics.entity}:${dynamics.id.toLowerCase()}`);
    if (p.link) continue;
    try {
      p.link = await single(p);
    } catch (error) {
      fail(p, error);
    }
  }
}
