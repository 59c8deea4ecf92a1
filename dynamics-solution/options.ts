/**
 * The few values a build may change, checked before anything is generated so that a bad value fails with a
 * message saying what to set, instead of producing a zip that Dynamics rejects at import (or, worse, accepts).
 */

export interface BuildOptions {
  /** Solution version, `major.minor.build.revision`. Upgrades must increase it. */
  version: string;
  /** Base URL of the sync server (webhooks and the embed API hang below it). */
  serverUrl: string;
  /** Publisher customization prefix: every column and web resource name starts with `<prefix>_`. */
  prefix: string;
}

export const DEFAULT_OPTIONS: BuildOptions = {
  version: '1.0.0.0',
  serverUrl: 'https://sync.example.com',
  prefix: 'hds',
};

export class OptionError extends Error {
  constructor(readonly option: string, message: string) {
    super(message);
    this.name = 'OptionError';
  }
}

const MAX_VERSION_PART = 2147483647; // Dataverse stores each part as a 32-bit int

export function checkVersion(version: string): string {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(version)) {
    throw new OptionError('version', `--version '${version}' is invalid: use four dot-separated integers, e.g. 1.0.0.0 (major.minor.build.revision).`);
  }
  if (version.split('.').some((p) => Number(p) > MAX_VERSION_PART)) {
    throw new OptionError('version', `--version '${version}' is invalid: each part must be at most ${MAX_VERSION_PART}.`);
  }
  return version;
}

export function checkPrefix(prefix: string): string {
  if (!/^[a-z][a-z0-9]{1,7}$/.test(prefix)) {
    throw new OptionError('prefix', `--prefix '${prefix}' is invalid: use 2–8 lower-case letters or digits starting with a letter, e.g. hds.`);
  }
  // Dataverse reserves mscrm for its own components and refuses a publisher with it.
  if (prefix.startsWith('mscrm')) throw new OptionError('prefix', `--prefix '${prefix}' is invalid: prefixes starting with 'mscrm' are reserved by Microsoft.`);
  return prefix;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** https only (Dataverse posts webhook bodies with customer data); plain http only for a local sync server. */
export function checkServerUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OptionError('server-url', `--server-url '${raw}' is not a URL: give the sync server's base URL, e.g. https://sync.example.com.`);
  }
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname)) {
    throw new OptionError('server-url', `--server-url '${raw}' must use https: plain http is allowed only for 127.0.0.1 or localhost (a sync server on this machine).`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OptionError('server-url', `--server-url '${raw}' must use https (http only for 127.0.0.1 or localhost).`);
  }
  if (url.username || url.password) throw new OptionError('server-url', `--server-url must not contain credentials: the webhook key is set after import, never in the zip.`);
  if (url.search || url.hash) throw new OptionError('server-url', `--server-url '${raw}' must be a base URL without a query or fragment.`);
  // Dataverse webhooks only reach ports 80 and 443 (reference/dataverse.md §1.7); a local server is exempt.
  if (url.port && !LOOPBACK.has(url.hostname) && url.port !== '443') {
    throw new OptionError('server-url', `--server-url '${raw}' uses port ${url.port}: Dynamics only calls webhooks on port 443 (or 80), so leave the port out.`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

export function checkOptions(o: BuildOptions): BuildOptions {
  return { version: checkVersion(o.version), prefix: checkPrefix(o.prefix), serverUrl: checkServerUrl(o.serverUrl) };
}
