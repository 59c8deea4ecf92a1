import type { Store } from '../store/index.ts';

/**
 * The browser origins the HubSpot tab runs on: each tenant's Dynamics org (the web resource is served by the
 * org itself). A CORS preflight carries no credential, so whether to answer it can only depend on the origin
 * being some tenant's org; which tenant's data a request may read is decided by its credential.
 */

export function originOf(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

export class OrgOrigins {
  private cached?: { at: number; origins: Promise<Set<string>> };

  /**
   * Org URLs change only when a tenant connects, so they are re-read every `ttlMs` (default 10 s), and on a
   * miss at most once per `missMs` (default 1 s): a just-connected org works at once, a stranger's origin
   * cannot make every request hit the database.
   */
  constructor(private readonly store: Store, private readonly ttlMs = 10_000, private readonly missMs = 1_000, private readonly now: () => number = Date.now) {}

  async has(origin: string): Promise<boolean> {
    if (!this.cached || this.now() - this.cached.at >= this.ttlMs) this.load();
    if ((await this.cached!.origins).has(origin)) return true;
    if (this.now() - this.cached!.at < this.missMs) return false;
    return (await this.load()).has(origin);
  }

  private load(): Promise<Set<string>> {
    const origins = this.store.tenants.list().then((ts) => new Set(ts.map((t) => originOf(t.dataverseOrgUrl)).filter((o): o is string => !!o)));
    const entry = { at: this.now(), origins };
    this.cached = entry;
    origins.catch(() => { if (this.cached === entry) this.cached = undefined; });
    return origins;
  }
}
