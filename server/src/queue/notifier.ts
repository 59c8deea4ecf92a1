/**
 * In-process wake-up for idle runners. Enqueues made by this process (webhooks, polls, replays) call
 * `notify()`, so the job starts at once instead of at the next poll; jobs enqueued by other processes are
 * still found by the runner's short poll. A notify with no waiter is remembered (one pending signal), so an
 * enqueue that races with a runner going to sleep is not missed.
 */
export class QueueNotifier {
  private waiters: Array<() => void> = [];
  private pending = false;

  notify(): void {
    const ws = this.waiters;
    this.waiters = [];
    if (ws.length === 0) this.pending = true;
    for (const w of ws) w();
  }

  /** Resolves on the next notify (or at once if one is pending), or after `timeoutMs`. */
  wait(timeoutMs: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== finish);
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.waiters.push(finish);
    });
  }
}
