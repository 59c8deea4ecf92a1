import type { Store } from '../store/index.ts';

/**
 * The safety-net polls keep their positions in the tenant's settings (`cursors`), so a restart resumes where
 * it stopped. Each save re-reads the settings and changes only its own cursor, so a concurrent admin PATCH of
 * other settings is not overwritten with a stale copy.
 */

export interface HubSpotCursor {
  since: number;
  afterId?: string;
}

interface CursorsShape {
  hubspot?: Record<string, HubSpotCursor>;
  dataverse?: Record<string, string>;
}

export async function readCursors(store: Store, tenantId: string): Promise<{ hubspot: Record<string, HubSpotCursor>; dataverse: Record<string, string> }> {
  const t = await store.tenants.get(tenantId);
  const c = ((t?.settings as { cursors?: CursorsShape } | undefined)?.cursors ?? {}) as CursorsShape;
  return { hubspot: { ...(c.hubspot ?? {}) }, dataverse: { ...(c.dataverse ?? {}) } };
}

export async function saveCursor(store: Store, tenantId: string, system: 'hubspot', key: string, value: HubSpotCursor): Promise<void>;
export async function saveCursor(store: Store, tenantId: string, system: 'dataverse', key: string, value: string): Promise<void>;
export async function saveCursor(store: Store, tenantId: string, system: 'hubspot' | 'dataverse', key: string, value: HubSpotCursor | string): Promise<void> {
  const t = await store.tenants.get(tenantId);
  if (!t) return;
  const settings = t.settings as Record<string, unknown> & { cursors?: CursorsShape };
  const cursors: CursorsShape = { hubspot: {}, dataverse: {}, ...(settings.cursors ?? {}) };
  cursors[system] = { ...(cursors[system] ?? {}), [key]: value } as never;
  await store.tenants.update(tenantId, { settings: { ...settings, cursors } });
}
