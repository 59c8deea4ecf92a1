import type { EmbedSync, EmbedSyncError } from '../../../dynamics-solution/webresource/embed-contract.ts';
import type { Store } from '../store/index.ts';
import type { Job } from '../store/repositories/jobs.ts';
import type { Link } from '../store/repositories/links.ts';
import type { Shadow } from '../store/repositories/shadows.ts';
import type { RecordRef } from '../store/repositories/sync-errors.ts';

/**
 * The sync half of the tab, from our own tables only: the problems stored on either side of the record
 * (what, why, how to fix), whether a job for it is waiting or dead, and when we last wrote it.
 */

export interface SyncSides {
  tenantId: string;
  dynamics: { entity: string; id: string };
  link?: Link;
  /**
   * Asked only for a record that is neither linked, queued nor failing: false when the tenant's UAT markers
   * keep it out of the sync (it would otherwise look as if it were still waiting).
   */
  inScope(): Promise<boolean>;
}

/** A dead-lettered job says why in `lastError`; the sync error rows cover only failures the worker classified. */
function deadJobError(job: Job): EmbedSyncError {
  return {
    what: `The sync of this record gave up after ${job.attempts} attempt${job.attempts === 1 ? '' : 's'}`,
    why: job.lastError ?? 'the last attempt failed without a message',
    fix: 'Fix the cause, then replay it from the dead letters in the admin API (POST /api/tenants/<id>/dead-letters/replay), or save the record again.',
  };
}

export async function syncView(store: Store, s: SyncSides): Promise<EmbedSync> {
  const refs: RecordRef[] = [{ system: 'dynamics', objectType: s.dynamics.entity, recordId: s.dynamics.id }];
  if (s.link) refs.push({ system: 'hubspot', objectType: s.link.hubspot.object, recordId: s.link.hubspot.id });
  const [errors, jobs, shadows] = await Promise.all([
    Promise.all(refs.map((r) => store.errors.forRecord(s.tenantId, r))).then((all) => all.flat()),
    Promise.all(refs.map((r) => store.jobs.forRecord({ tenantId: s.tenantId, ...r }))).then((all) => all.flat()),
    s.link ? store.shadows.forLink(s.tenantId, s.link.id) : Promise.resolve(new Map<string, Shadow>()),
  ]);
  const shown: EmbedSyncError[] = [
    ...errors.map((e) => ({ what: e.what, why: e.why, fix: e.howToFix })),
    ...jobs.filter((j) => j.state === 'dead').map(deadJobError),
  ];
  const waiting = jobs.some((j) => j.state !== 'dead');
  const written = [...shadows.values()].map((x) => x.writtenAt);
  const last = s.link ? Math.max(s.link.updatedAt, ...written) : null;

  let status: EmbedSync['status'];
  if (shown.length) status = 'error';
  else if (waiting) status = 'pending';
  else if (s.link) status = 'synced';
  else status = (await s.inScope()) ? 'pending' : 'excluded';
  return { lastSyncedAt: last === null ? null : new Date(last).toISOString(), status, errors: shown };
}
