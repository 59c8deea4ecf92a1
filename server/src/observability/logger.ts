import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config.ts';

/**
 * Secrets must never reach logs (DESIGN §6). Two layers: pino's path redaction for structured fields, and URL
 * scrubbing for query strings, where Dataverse puts its webhook key (`?code=`) and OAuth puts its code.
 */

const CENSOR = '[redacted]';

/** Object keys whose values are always secret, wherever they appear (top level, or up to two levels deep). */
const SECRET_KEYS = [
  'authorization', 'cookie', 'set-cookie', 'x-sync-webhook-key', 'x-hubspot-signature', 'x-hubspot-signature-v3',
  'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'idToken', 'id_token', 'token',
  'clientSecret', 'client_secret', 'password', 'secret', 'apiKey', 'api_key', 'webhookKey',
  'encryptionKey', 'ENCRYPTION_KEY', 'ENCRYPTION_OLD_KEYS', 'HUBSPOT_CLIENT_SECRET', 'DATABASE_URL',
];

function redactPaths(): string[] {
  // pino's wildcards match one level each; headers usually sit at req.headers.x (depth 3), so cover 1–3.
  const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`);
  const join = (prefix: string, k: string) => (key(k).startsWith('[') ? `${prefix}${key(k)}` : `${prefix}.${k}`);
  // `code` is only secret as a query parameter (Dataverse webhook key, OAuth code); elsewhere it is an error code.
  return [...SECRET_KEYS.flatMap((k) => [key(k), join('*', k), join('*.*', k)]), 'query.code', '*.query.code'];
}

/** Query parameters whose values are replaced in any logged URL. */
const SECRET_PARAMS = new Set(['code', 'token', 'access_token', 'refresh_token', 'client_secret', 'key', 'sig', 'signature', 'password', 'state']);

/** Masks secret query values in a URL or path, keeping the rest readable. Works on relative paths too. */
export function redactUrl(url: string): string {
  return url.replace(/([?&])([^=&#]+)=([^&#]*)/g, (m, sep: string, name: string) =>
    SECRET_PARAMS.has(decodeURIComponent(name).toLowerCase()) ? `${sep}${name}=${CENSOR}` : m,
  );
}

// Credentials inside connection strings (postgres://user:pass@host) are masked wherever they appear in a string.
const redactUserinfo = (s: string) => s.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, `$1${CENSOR}@`);

interface LoggableRequest {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers?: Record<string, unknown>;
}

const serializers = {
  url: (u: unknown) => (typeof u === 'string' ? redactUrl(redactUserinfo(u)) : u),
  // Express requests: method + scrubbed URL only; headers are left to redaction of the fields below.
  req: (r: LoggableRequest) =>
    r && typeof r === 'object'
      ? { method: r.method, url: redactUrl(r.originalUrl ?? r.url ?? ''), headers: r.headers }
      : r,
  err: (e: Error) => {
    const out = pino.stdSerializers.err(e);
    if (out && typeof out === 'object') {
      const scrub = (v: unknown) => (typeof v === 'string' ? redactUrl(redactUserinfo(v)) : v);
      out.message = scrub(out.message) as string;
      out.stack = scrub(out.stack) as string;
    }
    return out;
  },
};

export interface LoggerOptions {
  level?: LogLevel;
  /** Defaults to stdout; tests pass a stream to read what was logged. */
  destination?: DestinationStream;
  base?: Record<string, unknown>;
}

export function createLogger(o: LoggerOptions = {}): Logger {
  return pino(
    {
      level: o.level ?? 'info',
      base: o.base ?? { service: 'hubspot-dynamics-sync' },
      redact: { paths: redactPaths(), censor: CENSOR },
      serializers,
      hooks: {
        // The message string is not covered by path redaction; scrub URLs and connection strings (pg errors
        // quote them) that end up in it.
        logMethod(args, method) {
          const i = args.findIndex((a) => typeof a === 'string');
          if (i >= 0) args[i] = redactUrl(redactUserinfo(args[i] as string));
          return method.apply(this, args as Parameters<typeof method>);
        },
      },
    },
    o.destination ?? pino.destination(1),
  );
}

export { CENSOR as REDACTED };
