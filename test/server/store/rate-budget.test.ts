import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { RollingRateBudget, type BudgetLimit } from '../../../server/src/connectors/rate-budget.ts';
import { createDatabase, migrateToLatest, type Db } from '../../../server/src/store/index.ts';
import { PostgresCallLog } from '../../../server/src/store/rate-budget.ts';
import { adminQuery, dropScratchDatabase, PG_ADMIN_URL } from './harness.ts';

const WINDOW = 500;
const LIMIT = 10;
const small = (): BudgetLimit => ({ limit: LIMIT, windowMs: WINDOW });
/** Grants are timed where the caller sees them, a little after the database granted them; allow that much. */
const DELIVERY_SLACK_MS = 25;

/** Most grants seen in any window of `windowMs` (a window starting at each grant is enough to find the worst). */
function busiestWindow(grants: number[], windowMs: number): number {
  const t = [...grants].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (j < t.length && t[j] < t[i] + windowMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

describe('store: rate budget shared through PostgreSQL', function () {
  const name = `sync_test_${randomBytes(6).toString('hex')}`;
  // Two pools on one database: two server processes.
  let dbs: Db[] = [];
  let key: string;
  const budget = (i: number, limitFor: (key: string) => BudgetLimit | undefined = small) =>
    new RollingRateBudget(new PostgresCallLog(dbs[i].kysely), limitFor);
  const row = async (k: string) =>
    (await sql<{ slot_at: number[]; slot_n: number[] }>`select slot_at, slot_n from rate_budget where key = ${k}`.execute(dbs[0].kysely)).rows[0];

  before(async () => {
    await adminQuery(`create database ${name}`);
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    dbs = [createDatabase({ dataDir: '/nonexistent', databaseUrl: url.toString() }), createDatabase({ dataDir: '/nonexistent', databaseUrl: url.toString() })];
    for (const db of dbs) await migrateToLatest(db);
  });

  beforeEach(() => {
    key = `test:${randomBytes(4).toString('hex')}`;
  });

  after(async () => {
    for (const db of dbs) await db.close();
    await dropScratchDatabase(name);
  });

  it('two processes together never exceed the limit in any window, and every taker is served', async () => {
    const [a, b] = [budget(0), budget(1)];
    const grants: number[] = [];
    const started = Date.now();
    const takes = [a, b].flatMap((bud) => Array.from({ length: 25 }, () => bud.take(key).then(() => grants.push(Date.now()))));
    await Promise.all(takes);
    const elapsed = Date.now() - started;

    assert.equal(grants.length, 50);
    assert.ok(busiestWindow(grants, WINDOW - DELIVERY_SLACK_MS) <= LIMIT, `at most ${LIMIT} in any window (busiest: ${busiestWindow(grants, WINDOW - DELIVERY_SLACK_MS)})`);
    // 50 calls at 10 per window need four full windows after the first burst; sleeping exactly until slots
    // free (ticks are 5 ms) keeps it close to that.
    assert.ok(elapsed >= 4 * WINDOW - DELIVERY_SLACK_MS, `took ${elapsed} ms`);
    assert.ok(elapsed < 4 * WINDOW + 1_000, `took ${elapsed} ms`);
    assert.ok(a.stats.waited > 0 && b.stats.waited > 0, 'both processes waited');
  });

  it('grants exactly the limit to a burst of simultaneous spends from both pools', async () => {
    const logs = dbs.map((db) => new PostgresCallLog(db.kysely));
    const verdicts = await Promise.all(Array.from({ length: 40 }, (_, i) => logs[i % 2].spend(key, 1, small())));
    assert.equal(verdicts.filter((w) => w === 0).length, LIMIT);
    // The refused are told when the first slots come back, not to poll.
    for (const w of verdicts.filter((w) => w > 0)) assert.ok(w <= WINDOW + 5, `wait ${w} ms`);
  });

  it('a taker waits for the slots spent by another process, then gets them', async () => {
    const [a, b] = [budget(0), budget(1)];
    const filled = Date.now();
    await Promise.all(Array.from({ length: LIMIT }, () => a.take(key)));
    await b.take(key);
    const waited = Date.now() - filled;
    assert.ok(waited >= WINDOW - DELIVERY_SLACK_MS && waited < WINDOW + 300, `waited ${waited} ms`);
    assert.deepEqual(b.statsFor(key), { taken: 1, waited: 1 });
  });

  it('takes of cost > 1 spend that many slots, and a cost above the limit spends the whole window', async () => {
    const [a, b] = [budget(0), budget(1)];
    const log = new PostgresCallLog(dbs[1].kysely);
    await a.take(key, 4);
    await b.take(key, 4);
    assert.ok(await log.spend(key, 3, small()) > 0, '4 + 4 + 3 > 10: refused with a wait');
    assert.equal(await log.spend(key, 2, small()), 0, '4 + 4 + 2 fits');
    const r = await row(key);
    assert.equal(r.slot_n.reduce((s, n) => s + n, 0), LIMIT);

    const other = `${key}:big`;
    const t0 = Date.now();
    await a.take(other, 50);
    await b.take(other);
    assert.ok(Date.now() - t0 >= WINDOW - DELIVERY_SLACK_MS, 'the oversized take filled the window');
  });

  it('keys are independent, and keys without a limit never touch the database', async () => {
    const a = budget(0, (k) => (k.startsWith('test:') ? small() : undefined));
    await Promise.all(Array.from({ length: LIMIT }, () => a.take(key)));
    const t0 = Date.now();
    await a.take(`${key}:other`);
    await a.take('unlimited');
    assert.ok(Date.now() - t0 < 100);
    assert.equal(await row('unlimited'), undefined);
  });

  it('keeps only the calls inside the window, as run-length pairs, and sweeps idle keys', async () => {
    const a = budget(0);
    await Promise.all(Array.from({ length: LIMIT }, () => a.take(key)));
    const full = await row(key);
    assert.equal(full.slot_n.reduce((s, n) => s + n, 0), LIMIT);
    assert.ok(full.slot_at.length < LIMIT, `calls of one 5 ms tick share a pair (${full.slot_at.length} pairs)`);

    await new Promise((r) => setTimeout(r, WINDOW + 20));
    await a.take(key);
    assert.deepEqual((await row(key)).slot_n, [1], 'expired pairs pruned on the next take');

    const idle = `${key}:idle`;
    await a.take(idle);
    await new Promise((r) => setTimeout(r, WINDOW + 20));
    await a.take(key);
    // A log that sweeps on every spend: the idle key goes, the one in use stays.
    const sweeping = new PostgresCallLog(dbs[1].kysely, { sweepEveryMs: 0 });
    await sweeping.spend(`${key}:third`, 1, small());
    assert.equal(await row(idle), undefined);
    assert.deepEqual((await row(key)).slot_n, [1]);
  });
});
