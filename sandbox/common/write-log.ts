import express from 'express';

/**
 * Who wrote each record and when, to the millisecond, for benchmarks (`npm run bench`). The services' own
 * timestamps cannot serve: Dataverse's `modifiedon` has whole seconds, and neither says whether a person or
 * the integration made the change. Not part of either imitated API; reached only through `/__sandbox/writes`.
 */

/** `app`: the integration's credentials (HubSpot app token, Dataverse application user); `user`: a person. */
export type Writer = 'app' | 'user';
export type WriteKind = 'create' | 'update';

export interface WriteEntry {
  /** Epoch milliseconds when the write was committed. */
  at: number;
  by: Writer;
  kind: WriteKind;
}

interface Totals {
  creates: number;
  updates: number;
  lastCreateAt: number | null;
  lastUpdateAt: number | null;
}

const noWrites = (): Totals => ({ creates: 0, updates: 0, lastCreateAt: null, lastUpdateAt: null });

/** Enough history to find the write that answered a given change, while memory stays bounded per record. */
const KEPT_PER_RECORD = 8;

export class WriteLog {
  private readonly records = new Map<string, WriteEntry[]>();
  private readonly totals = new Map<string, Record<Writer, Totals>>();

  /**
   * Records one write of `type/id`. A repeat with the same time and writer is the same write seen again
   * (HubSpot reports a creation and then each of its properties), so it is not counted twice.
   */
  note(type: string, id: string, by: Writer, kind: WriteKind, at = Date.now()): void {
    const key = `${type}/${id.toLowerCase()}`;
    let history = this.records.get(key);
    if (!history) this.records.set(key, (history = []));
    const last = history[history.length - 1];
    if (last && last.at === at && last.by === by) return;
    history.push({ at, by, kind });
    if (history.length > KEPT_PER_RECORD) history.shift();
    let t = this.totals.get(type);
    if (!t) this.totals.set(type, (t = { app: noWrites(), user: noWrites() }));
    if (kind === 'create') {
      t[by].creates += 1;
      t[by].lastCreateAt = at;
    } else {
      t[by].updates += 1;
      t[by].lastUpdateAt = at;
    }
  }

  /**
   * `GET /__sandbox/writes`: counts per record type and writer, with the times of the latest create and update.
   * `POST /__sandbox/writes` `{"records": ["contacts/123", …]}`: the recent writes of each named record
   * (a POST because a list of Dataverse ids would not fit in a URL).
   */
  router(): express.Router {
    const r = express.Router();
    r.get('/__sandbox/writes', (_req, res) => {
      res.json({ now: Date.now(), totals: Object.fromEntries(this.totals) });
    });
    r.post('/__sandbox/writes', express.json({ limit: '5mb' }), (req, res) => {
      const keys = (req.body as { records?: unknown } | undefined)?.records;
      if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
        res.status(400).json({ message: 'Send {"records": ["<type>/<id>", …]}, e.g. "contacts/101" or "contact/<guid>".' });
        return;
      }
      res.json({ now: Date.now(), records: Object.fromEntries(keys.map((k) => [k, this.records.get(k.toLowerCase()) ?? []])) });
    });
    return r;
  }
}
