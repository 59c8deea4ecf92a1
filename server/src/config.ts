import { z } from 'zod';

/**
 * Server configuration, read once from the environment at start-up.
 *
 * `loadConfig` is pure (no file or network access) so it can be tested with a plain object; anything that needs
 * the disk — the generated encryption key of the embedded mode — happens later in `security/key-file.ts`.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export interface Config {
  port: number;
  /** Absolute or relative directory for the SQLite database and the generated key file. */
  dataDir: string;
  /** Set → PostgreSQL (scale-out); unset → embedded SQLite in `dataDir`. */
  databaseUrl: string | undefined;
  encryption: {
    /** The key new ciphertexts are written with; undefined → embedded mode generates/reads a key file. */
    current: EncryptionKey | undefined;
    /** Id to use for the current key (env or key file). */
    currentKeyId: string;
    /** Earlier keys, still accepted for decryption while secrets are re-encrypted. */
    old: EncryptionKey[];
  };
  logLevel: LogLevel;
  /** External base URL (no trailing slash) — needed to rebuild the exact URL HubSpot signed. */
  publicUrl: string | undefined;
  hubspot: { clientId: string | undefined; clientSecret: string | undefined; appId: string | undefined };
  pollIntervalMinutes: number;
  /** Jobs (or groups of jobs) this process runs at once. */
  workerConcurrency: number;
  /** Lease on a running job; after a crash another process takes the job over once it runs out. */
  jobLeaseMs: number;
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
export const DEFAULT_KEY_ID = 'k1';

/** Quotes a bad value for an error message without echoing secrets or huge strings. */
function shown(value: unknown): string {
  const s = String(value);
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 37)}…` : s);
}

// Docker env files and CI templates often set a variable to "" to mean "unset"; treat it so, or every optional
// variable would fail validation on an empty string.
const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(blankToUndefined, z.string().trim().optional());

function intVar(name: string, def: number, min: number, max: number) {
  return z.preprocess(
    blankToUndefined,
    z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return def;
        const n = Number(v);
        if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
          ctx.addIssue({ code: 'custom', message: `${name} must be an integer from ${min} to ${max}, got ${shown(v)}` });
          return z.NEVER;
        }
        return n;
      }),
  );
}

function decodeKey(name: string, b64: string): Buffer | string {
  const trimmed = b64.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) return `${name} must be base64, got a value with other characters`;
  const key = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
  if (key.length !== 32) {
    return `${name} must be 32 bytes of base64 (e.g. \`openssl rand -base64 32\`), got ${key.length} bytes`;
  }
  return key;
}

const schema = z
  .object({
    PORT: intVar('PORT', 3000, 0, 65535),
    DATA_DIR: z.preprocess(blankToUndefined, z.string().default('./data')),
    DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\/[^/]+/.test(v), {
      error: (iss) =>
        `DATABASE_URL must be a postgres:// URL (e.g. postgres://user:pass@host:5432/sync), got ${shown(
          String(iss.input).replace(/\/\/[^@/]*@/, '//…@'),
        )}; unset it to use the embedded SQLite database`,
    }),
    ENCRYPTION_KEY: optionalString,
    ENCRYPTION_KEY_ID: optionalString.refine((v) => v === undefined || KEY_ID.test(v), {
      error: (iss) => `ENCRYPTION_KEY_ID must be 1-32 letters, digits, "_" or "-", got ${shown(iss.input)}`,
    }),
    ENCRYPTION_OLD_KEYS: optionalString,
    LOG_LEVEL: z.preprocess(
      (v) => (typeof blankToUndefined(v) === 'string' ? String(v).trim().toLowerCase() : undefined),
      z.enum(LOG_LEVELS, { error: (iss) => `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${shown(iss.input)}` }).default('info'),
    ),
    PUBLIC_URL: optionalString.refine(
      (v) => {
        if (v === undefined) return true;
        try {
          const u = new URL(v);
          return (u.protocol === 'https:' || u.protocol === 'http:') && !u.search && !u.hash;
        } catch {
          return false;
        }
      },
      { error: (iss) => `PUBLIC_URL must be an http(s) URL without query, e.g. https://sync.example.com, got ${shown(iss.input)}` },
    ),
    HUBSPOT_CLIENT_ID: optionalString,
    HUBSPOT_CLIENT_SECRET: optionalString,
    HUBSPOT_APP_ID: optionalString.refine((v) => v === undefined || /^\d+$/.test(v), {
      error: (iss) => `HUBSPOT_APP_ID must be the numeric app id from the HubSpot developer account, got ${shown(iss.input)}`,
    }),
    POLL_INTERVAL_MINUTES: intVar('POLL_INTERVAL_MINUTES', 5, 1, 1440),
    WORKER_CONCURRENCY: intVar('WORKER_CONCURRENCY', 4, 1, 64),
    JOB_LEASE_SECONDS: intVar('JOB_LEASE_SECONDS', 60, 1, 3600),
  });

/**
 * Rules over several variables. Kept outside the zod object because zod skips object-level refinements once a
 * field fails, and the operator should see every problem in one go.
 */
function crossChecks(raw: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  const env = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, blankToUndefined(v) as string | undefined]));
  const currentId = env.ENCRYPTION_KEY_ID ?? DEFAULT_KEY_ID;
  if (env.ENCRYPTION_KEY !== undefined) {
    const k = decodeKey('ENCRYPTION_KEY', env.ENCRYPTION_KEY);
    if (typeof k === 'string') out.push(k);
  } else if (env.DATABASE_URL !== undefined) {
    // Several processes (maybe on several hosts) share PostgreSQL; a per-host generated key file would make
    // each one unable to read the others' secrets.
    out.push('ENCRYPTION_KEY is required with DATABASE_URL: set it to 32 random bytes in base64 (`openssl rand -base64 32`), the same on every server process');
  } else if (env.ENCRYPTION_KEY_ID !== undefined) {
    out.push('ENCRYPTION_KEY_ID is set but ENCRYPTION_KEY is not: set both, or neither to use the generated key file');
  }
  if (env.ENCRYPTION_OLD_KEYS !== undefined) {
    const seen = new Set<string>();
    for (const entry of env.ENCRYPTION_OLD_KEYS.split(',').map((s) => s.trim()).filter(Boolean)) {
      const colon = entry.indexOf(':');
      const id = colon > 0 ? entry.slice(0, colon) : '';
      if (!KEY_ID.test(id)) {
        out.push('ENCRYPTION_OLD_KEYS must be a comma-separated list of <keyId>:<base64 key>, e.g. k1:AbC…=,k0:XyZ…=');
        continue;
      }
      const k = decodeKey(`ENCRYPTION_OLD_KEYS key "${id}"`, entry.slice(colon + 1));
      if (typeof k === 'string') out.push(k);
      if (id === currentId) out.push(`ENCRYPTION_OLD_KEYS contains "${id}", the id of the current key; give the new key a new ENCRYPTION_KEY_ID`);
      if (seen.has(id)) out.push(`ENCRYPTION_OLD_KEYS lists key id "${id}" twice`);
      seen.add(id);
    }
  }
  const hs = [env.HUBSPOT_CLIENT_ID, env.HUBSPOT_CLIENT_SECRET];
  if (hs.some((v) => v !== undefined) && hs.some((v) => v === undefined)) {
    out.push('HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET must be set together (both from the HubSpot app\'s Auth tab)');
  }
  return out;
}

/** Validates `env` and returns the typed config, or throws one `ConfigError` naming every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env);
  const problems = [
    ...(parsed.success ? [] : parsed.error.issues.map((i) => (i.message.includes(String(i.path[0] ?? '\0')) ? i.message : `${String(i.path[0] ?? 'environment')}: ${i.message}`))),
    ...crossChecks(env),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  const currentKeyId = e.ENCRYPTION_KEY_ID ?? DEFAULT_KEY_ID;
  const old = (e.ENCRYPTION_OLD_KEYS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const colon = entry.indexOf(':');
      return { id: entry.slice(0, colon), key: decodeKey('', entry.slice(colon + 1)) as Buffer };
    });
  return {
    port: e.PORT,
    dataDir: e.DATA_DIR,
    databaseUrl: e.DATABASE_URL,
    encryption: {
      current: e.ENCRYPTION_KEY === undefined ? undefined : { id: currentKeyId, key: decodeKey('', e.ENCRYPTION_KEY) as Buffer },
      currentKeyId,
      old,
    },
    logLevel: e.LOG_LEVEL,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    hubspot: { clientId: e.HUBSPOT_CLIENT_ID, clientSecret: e.HUBSPOT_CLIENT_SECRET, appId: e.HUBSPOT_APP_ID },
    pollIntervalMinutes: e.POLL_INTERVAL_MINUTES,
    workerConcurrency: e.WORKER_CONCURRENCY,
    jobLeaseMs: e.JOB_LEASE_SECONDS * 1000,
  };
}
