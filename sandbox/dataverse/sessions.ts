import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Principal } from './contracts.ts';

/**
 * Browser sign-in for the sandbox's org pages. A real org sends an unsigned-in browser to Entra and back,
 * then keeps it signed in with an HttpOnly cookie; pages and web resources served by the org call the Web
 * API same-origin and that cookie is their only credential. The sandbox has no interactive login, so
 * opening `main.aspx` signs the browser in directly as the sandbox's ordinary user.
 *
 * Sessions are opaque random tokens kept in this process only (a restart signs everyone out, like a fresh
 * org), with a sliding expiry: every accepted request pushes the end out again.
 */

/** The cookie name Dynamics 365 online uses for its sign-in session; the value format is the sandbox's own. */
export const SESSION_COOKIE = 'CrmOwinAuth';

export type SessionCheck =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'missing' | 'invalid' | 'expired' };

export interface BrowserSessionsOptions {
  /** Who opening main.aspx signs in as (a person, never the application user: those cannot sign in interactively). */
  signInAs: Principal;
  /** Idle time after which a session ends; 1 hour by default. */
  ttlMs?: number;
  now?: () => number;
}

/** Beyond this many live sessions the oldest are dropped, so a looping test cannot grow memory without bound. */
const MAX_SESSIONS = 10_000;

export class BrowserSessions {
  readonly ttlMs: number;
  private readonly signInAs: Principal;
  private readonly now: () => number;
  private readonly sessions = new Map<string, { principal: Principal; expiresAt: number }>();

  constructor(options: BrowserSessionsOptions) {
    this.signInAs = options.signInAs;
    this.ttlMs = options.ttlMs ?? 3_600_000;
    this.now = options.now ?? Date.now;
  }

  /** A new session for the sign-in user; returns the token that goes into the cookie. */
  start(): string {
    const token = randomBytes(32).toString('base64url');
    if (this.sessions.size >= MAX_SESSIONS) {
      // Map keeps insertion order; a touched session is re-inserted, so the first ones are the least recently used.
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    this.sessions.set(token, { principal: this.signInAs, expiresAt: this.now() + this.ttlMs });
    return token;
  }

  /**
   * Checks the session cookie(s) of a `Cookie` header and, when one is live, extends it. A browser can hold
   * several cookies of the same name (e.g. another path), so any live one counts.
   */
  check(cookieHeader: string | undefined): SessionCheck {
    const values = cookieValues(cookieHeader, SESSION_COOKIE);
    if (!values.length) return { ok: false, reason: 'missing' };
    let expired = false;
    for (const token of values) {
      const session = this.sessions.get(token);
      if (!session) continue;
      const now = this.now();
      if (session.expiresAt <= now) {
        this.sessions.delete(token);
        expired = true;
        continue;
      }
      this.sessions.delete(token);
      this.sessions.set(token, { principal: session.principal, expiresAt: now + this.ttlMs });
      return { ok: true, principal: session.principal };
    }
    return { ok: false, reason: expired ? 'expired' : 'invalid' };
  }

  /**
   * Middleware for the org's pages: keeps a live session, otherwise starts one and sets the cookie.
   * HttpOnly keeps page scripts from reading it; SameSite=Lax keeps it off cross-site subrequests;
   * Secure only over HTTPS, because a Secure cookie set over plain HTTP would be dropped by the browser.
   */
  signIn() {
    return (req: Request, res: Response, next: NextFunction): void => {
      if (!this.check(req.get('cookie')).ok) {
        const token = this.start();
        res.append('Set-Cookie', `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax${req.secure ? '; Secure' : ''}`);
      }
      // The page differs per signed-in browser, so no shared cache may keep it.
      res.set('Cache-Control', 'no-store');
      next();
    };
  }
}

/** Every value of cookie `name` in a Cookie header (RFC 6265 `name=value; name2=value2`). */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (value) out.push(value);
  }
  return out;
}

/**
 * Whether a state-changing request authenticated only by the session cookie comes from the org's own pages.
 * Browsers send `Origin` on every cross-origin request and on same-origin non-GET fetches, and
 * `Sec-Fetch-Site` on all of them; either one naming another origin means a foreign page made the browser
 * send the request. Without both, the caller is not a browser (curl, a test), which a forged page cannot be.
 * SameSite=Lax alone is not enough: another port on the same host is the same *site*, so a page served by
 * e.g. the sync server at 127.0.0.1:<other port> would get the cookie attached.
 */
export function sameOriginWrite(req: Request): { ok: true } | { ok: false; why: string } {
  const fetchSite = req.get('sec-fetch-site');
  if (fetchSite !== undefined && fetchSite !== 'same-origin') return { ok: false, why: `Sec-Fetch-Site is '${fetchSite}'` };
  const origin = req.get('origin');
  if (origin !== undefined) {
    const own = `${req.protocol}://${req.get('host') ?? ''}`;
    if (origin.toLowerCase() !== own.toLowerCase()) return { ok: false, why: `Origin ${origin} is not ${own}` };
  }
  return { ok: true };
}
