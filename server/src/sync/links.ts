import type { DynamicsRef, HubSpotRef, Link } from '../store/repositories/links.ts';
import type { SyncRun } from './run.ts';
import { saveShadows, type Side } from './shadow.ts';

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

/**
 * Writes our link fields on the other side's records of a group (one batch call, `send`) and remembers them as
 * shadows, so the change events those writes cause are known as our own. A record the call refuses gets that
 * error; a call that fails as a whole fails them all.
 */
export async function writeLinkFields<P extends { link: Link | undefined }>(
  run: SyncRun,
  direction: 'to_hubspot' | 'to_dynamics',
  due: P[],
  send: (due: P[]) => Promise<Array<{ ok: true } | { ok: false; error: unknown }>>,
  written: (p: P) => Array<{ side: Side; field: string; value: unknown }>,
  fail: (p: P, error: unknown) => void,
): Promise<void> {
  if (due.length === 0) return;
  let results;
  try {
    results = await send(due);
  } catch (error) {
    for (const p of due) fail(p, error);
    return;
  }
  const saved = [];
  for (const [i, r] of results.entries()) {
    if (!r.ok) fail(due[i], r.error);
    else saved.push({ linkId: due[i].link!.id, entries: written(due[i]) });
  }
  await saveShadows(run.store, run.ctx.tenantId, direction, saved);
}
