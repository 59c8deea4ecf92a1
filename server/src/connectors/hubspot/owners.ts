import type { HubSpotCaller } from './client.ts';
import type { HubSpotOwner } from './types.ts';

/**
 * The portal's owners (all pages), cached for a TTL: owner mapping looks one up for nearly every record,
 * and owners change rarely. A miss does not refetch by itself (that would cost a call per unmatched
 * email); callers refresh explicitly, e.g. when a user says "I just added that user".
 */
export class OwnerDirectory {
  private cached?: { at: number; owners: Promise<HubSpotOwner[]> };

  constructor(private readonly caller: HubSpotCaller, private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  all(refresh: boolean): Promise<HubSpotOwner[]> {
    if (!this.cached || refresh || this.now() - this.cached.at > this.ttlMs) {
      const owners = this.load();
      const entry = { at: this.now(), owners };
      this.cached = entry;
      owners.catch(() => { if (this.cached === entry) this.cached = undefined; });
    }
    return this.cached.owners;
  }

  async byEmail(email: string): Promise<HubSpotOwner | undefined> {
    const want = email.trim().toLowerCase();
    return (await this.all(false)).find((o) => o.email?.trim().toLowerCase() === want);
  }

  async byId(id: string): Promise<HubSpotOwner | undefined> {
    return (await this.all(false)).find((o) => o.id === String(id));
  }

  private async load(): Promise<HubSpotOwner[]> {
    const out: HubSpotOwner[] = [];
    let after: string | undefined;
    do {
      const page = await this.caller.call('read owners', undefined, (client) => client.crm.owners.ownersApi.getPage(undefined, after, 100, false));
      for (const o of page.results) {
        out.push({ id: String(o.id), email: o.email, firstName: o.firstName, lastName: o.lastName, userId: o.userId, archived: o.archived });
      }
      after = page.paging?.next?.after;
    } while (after);
    return out;
  }
}
