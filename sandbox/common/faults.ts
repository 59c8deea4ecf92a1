import type { NextFunction, Request, Response, RequestHandler, Router } from 'express';
import express from 'express';

/**
 * Latency and fault injection shared by both sandboxes. Rates are fractions of requests (0..1) and are
 * rolled independently of each other in a fixed order, so a test can ask for "10 % 429s" and get roughly that.
 */
export interface FaultConfig {
  /** Added to every request before it is handled, in milliseconds. */
  latencyMs: number;
  /** Extra random latency in [0, jitterMs). */
  jitterMs: number;
  rate429: number;
  rate500: number;
  rate502: number;
  /** The request is accepted but never answered (the client's own timeout fires). */
  rateTimeout: number;
  /** The TCP connection is destroyed without a response. */
  rateDrop: number;
}

export const NO_FAULTS: FaultConfig = {
  latencyMs: 0, jitterMs: 0, rate429: 0, rate500: 0, rate502: 0, rateTimeout: 0, rateDrop: 0,
};

export type FaultKind = '429' | '500' | '502' | 'timeout' | 'drop';

/** How a sandbox answers an injected fault with its own service's body and headers. */
export interface FaultResponder {
  tooManyRequests(req: Request, res: Response): void;
  serverError(req: Request, res: Response, status: 500 | 502): void;
}

export class FaultInjector {
  private config: FaultConfig;
  /** Counts injected faults by kind, for tests and the bench. */
  readonly injected: Record<FaultKind, number> = { '429': 0, '500': 0, '502': 0, timeout: 0, drop: 0 };
  private readonly hung = new Set<Response>();

  constructor(initial: Partial<FaultConfig> = {}, private readonly random: () => number = Math.random) {
    this.config = validateFaults({ ...NO_FAULTS, ...initial });
  }

  get current(): FaultConfig {
    return { ...this.config };
  }

  set(patch: Partial<FaultConfig>): FaultConfig {
    this.config = validateFaults({ ...this.config, ...patch });
    return this.current;
  }

  reset(): void {
    this.config = { ...NO_FAULTS };
  }

  /** Picks the fault for one request, or null. */
  roll(): FaultKind | null {
    const c = this.config;
    const order: Array<[FaultKind, number]> = [
      ['drop', c.rateDrop], ['timeout', c.rateTimeout], ['429', c.rate429], ['500', c.rate500], ['502', c.rate502],
    ];
    for (const [kind, rate] of order) {
      if (rate > 0 && this.random() < rate) return kind;
    }
    return null;
  }

  /** Express middleware: delay, then maybe fail. Paths under `skip` (the control routes) are never faulted. */
  middleware(responder: FaultResponder, skip: (req: Request) => boolean = () => false): RequestHandler {
    return (req: Request, res: Response, next: NextFunction) => {
      if (skip(req)) return next();
      const delay = this.config.latencyMs + (this.config.jitterMs > 0 ? this.random() * this.config.jitterMs : 0);
      const proceed = () => {
        const fault = this.roll();
        if (!fault) return next();
        this.injected[fault] += 1;
        switch (fault) {
          case 'drop':
            req.socket.destroy();
            return;
          case 'timeout':
            // Keep the socket open and silent; the client gives up. Released when the sandbox stops.
            this.hung.add(res);
            res.on('close', () => this.hung.delete(res));
            return;
          case '429':
            return responder.tooManyRequests(req, res);
          case '500':
            return responder.serverError(req, res, 500);
          case '502':
            return responder.serverError(req, res, 502);
        }
      };
      if (delay > 0) setTimeout(proceed, delay);
      else proceed();
    };
  }

  /** Ends requests held open by the timeout fault (called on shutdown). */
  releaseHung(): void {
    for (const res of this.hung) res.socket?.destroy();
    this.hung.clear();
  }

  /** `GET|PUT|DELETE /__sandbox/faults`: switch faults at run time. */
  router(): Router {
    const router = express.Router();
    router.get('/__sandbox/faults', (_req, res) => {
      res.json({ config: this.current, injected: this.injected });
    });
    router.put('/__sandbox/faults', express.json(), (req, res) => {
      try {
        res.json({ config: this.set(req.body ?? {}), injected: this.injected });
      } catch (err) {
        res.status(400).json({ message: (err as Error).message });
      }
    });
    router.delete('/__sandbox/faults', (_req, res) => {
      this.reset();
      res.json({ config: this.current, injected: this.injected });
    });
    return router;
  }
}

export function validateFaults(c: FaultConfig): FaultConfig {
  for (const [key, value] of Object.entries(c)) {
    if (!(key in NO_FAULTS)) throw new Error(`Unknown fault setting "${key}". Known: ${Object.keys(NO_FAULTS).join(', ')}.`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`Fault setting "${key}" must be a non-negative number, got ${JSON.stringify(value)}.`);
    }
    if (key.startsWith('rate') && value > 1) {
      throw new Error(`Fault setting "${key}" is a fraction of requests between 0 and 1, got ${value}.`);
    }
  }
  return c;
}
