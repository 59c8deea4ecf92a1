/**
 * Delay before retry number `attempt` (1 = after the first failure): exponential from 30 s, capped at 1 h,
 * with ±20 % jitter so jobs that failed together (an outage) do not all come back in the same second.
 */
export function retryDelayMs(attempt: number, o: { baseMs?: number; capMs?: number; random?: () => number } = {}): number {
  const base = o.baseMs ?? 30_000;
  const cap = o.capMs ?? 3_600_000;
  const exp = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.8 + 0.4 * (o.random ?? Math.random)()));
}
