/**
 * Matching keys and the choice between candidate records. Ambiguity is reported as a reason, never guessed:
 * linking the wrong record silently merges two customers' data, which no later sync can undo.
 */

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Trim and lower-case; `mailto:` is dropped. Anything that is not one address returns null. */
export function normaliseEmail(input: unknown): string | null {
  if (typeof input !== 'string') return null;
  const s = input.trim().replace(/^mailto:/i, '').toLowerCase();
  return EMAIL.test(s) ? s : null;
}

/**
 * Host name of a domain or website URL: no scheme, user info, port, path, query, leading `www.` or trailing dot;
 * lower case. Returns null when nothing that looks like a domain (at least one dot) remains.
 */
export function normaliseDomain(input: unknown): string | null {
  if (typeof input !== 'string') return null;
  let s = input.trim();
  if (s === '') return null;
  // An email address gives its domain (a contact's address is sometimes typed into a website field).
  if (!s.includes('/') && normaliseEmail(s)) s = s.slice(s.lastIndexOf('@') + 1);
  if (s.startsWith('//')) s = `http:${s}`;
  else if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) s = `http://${s}`;
  let host: string;
  try {
    host = new URL(s).hostname;
  } catch {
    return null;
  }
  host = host.toLowerCase().replace(/\.$/, '').replace(/^www\./, '');
  if (!host.includes('.') || !/^[a-z0-9.-]+$/.test(host) || host.startsWith('.') || host.includes('..')) return null;
  return host;
}

const LEGAL_SUFFIXES = new Set([
  'inc', 'incorporated', 'llc', 'llp', 'ltd', 'limited', 'corp', 'corporation', 'co', 'company', 'gmbh', 'ag', 'sa',
  'sas', 'sarl', 'plc', 'bv', 'nv', 'pty', 'srl', 'spa', 'oy', 'ab', 'as', 'kg',
]);

/**
 * Company name key for the fallback match: accents folded, `&` = `and`, punctuation dropped, a leading "the" and
 * trailing legal forms (Inc., Ltd, GmbH…) removed, so "The Acme Co., Inc." and "acme" compare equal.
 */
export function normaliseCompanyName(input: unknown): string | null {
  if (typeof input !== 'string') return null;
  const words = input
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .filter(Boolean);
  if (words[0] === 'the' && words.length > 1) words.shift();
  while (words.length > 1 && LEGAL_SUFFIXES.has(words[words.length - 1])) words.pop();
  const key = words.join(' ');
  return key === '' ? null : key;
}

/** A record of the other system that might be the same thing. */
export interface Candidate {
  id: string;
  /** Dataverse logical name (lead/contact) when candidates come from several tables. */
  entity?: string;
  email?: string | null;
  domain?: string | null;
  website?: string | null;
  name?: string | null;
  /** Id of the record this candidate is already linked to, if any. */
  linkedTo?: string | null;
}

/** What we know of the record being synced. */
export interface MatchSource {
  /** Our own id of the source record, to recognise a candidate already linked to it. */
  id?: string;
  /** Stored link (the other system's id), which always wins. */
  link?: string | null;
  email?: string | null;
  domain?: string | null;
  website?: string | null;
  name?: string | null;
}

export type MatchBy = 'link' | 'email' | 'domain' | 'domain+name' | 'name';
export type MatchResult =
  | { kind: 'matched'; id: string; by: MatchBy; reason: string }
  | { kind: 'none'; reason: string }
  | { kind: 'ambiguous'; ids: string[]; by: MatchBy; reason: string };

export type MatchStrategy = 'email' | 'domainThenName' | 'link';

export interface MatchOptions {
  /** When several candidates match, a single one of this entity wins (a qualified contact over its lead). */
  preferEntity?: string;
}

/** Candidates already linked to a different record cannot take a second link (one link per record). */
function free(source: MatchSource, c: Candidate): boolean {
  return !c.linkedTo || (source.id !== undefined && c.linkedTo === source.id);
}

function decide(source: MatchSource, found: Candidate[], by: MatchBy, what: string, opts: MatchOptions): MatchResult | null {
  if (found.length === 0) return null;
  const open = found.filter((c) => free(source, c));
  if (open.length === 0) {
    return { kind: 'none', reason: `${what} matches ${found.map((c) => c.id).join(', ')}, already linked to another record` };
  }
  if (open.length === 1) return { kind: 'matched', id: open[0].id, by, reason: `${what} matches ${open[0].id}` };
  if (opts.preferEntity) {
    const preferred = open.filter((c) => c.entity === opts.preferEntity);
    if (preferred.length === 1) {
      return { kind: 'matched', id: preferred[0].id, by, reason: `${what} matches ${open.length} records; the only ${opts.preferEntity} ${preferred[0].id} wins` };
    }
  }
  const ids = open.map((c) => c.id);
  return { kind: 'ambiguous', ids, by, reason: `${what} matches ${ids.length} records (${ids.join(', ')}); link one by hand or remove the duplicates` };
}

export function chooseByEmail(source: MatchSource, candidates: Candidate[], opts: MatchOptions = {}): MatchResult {
  const email = normaliseEmail(source.email);
  if (!email) return { kind: 'none', reason: source.email ? `email '${source.email}' is not a valid address` : 'no email to match on' };
  const found = candidates.filter((c) => normaliseEmail(c.email) === email);
  return decide(source, found, 'email', `email ${email}`, opts) ?? { kind: 'none', reason: `no record has email ${email}` };
}

const domainOf = (r: { domain?: string | null; website?: string | null }): string | null =>
  normaliseDomain(r.domain) ?? normaliseDomain(r.website);

/**
 * Domain first; if several share the domain, the one whose name also matches wins. The name fallback only
 * considers candidates whose domain does not contradict the source's (acme.com must not link to acme.co.uk's
 * "Acme" just because the names agree).
 */
export function chooseByDomainThenName(source: MatchSource, candidates: Candidate[], opts: MatchOptions = {}): MatchResult {
  const domain = domainOf(source);
  const name = normaliseCompanyName(source.name);
  if (domain) {
    const byDomain = candidates.filter((c) => domainOf(c) === domain);
    if (byDomain.length > 1 && name) {
      const both = byDomain.filter((c) => normaliseCompanyName(c.name) === name && free(source, c));
      if (both.length === 1) {
        return { kind: 'matched', id: both[0].id, by: 'domain+name', reason: `domain ${domain} matches ${byDomain.length} records; only ${both[0].id} also has name '${source.name}'` };
      }
    }
    const r = decide(source, byDomain, 'domain', `domain ${domain}`, opts);
    if (r) return r;
  }
  if (!name) return { kind: 'none', reason: domain ? `no record has domain ${domain} and there is no name to match on` : 'no domain or name to match on' };
  const byName = candidates.filter((c) => {
    if (normaliseCompanyName(c.name) !== name) return false;
    const d = domainOf(c);
    return !domain || !d || d === domain;
  });
  return decide(source, byName, 'name', `name '${source.name}'`, opts)
    ?? { kind: 'none', reason: `no record has ${domain ? `domain ${domain} or ` : ''}name '${source.name}'` };
}

/** Stored link first (always), then the pair's strategy. `link` strategy never matches on data. */
export function chooseMatch(strategy: MatchStrategy, source: MatchSource, candidates: Candidate[], opts: MatchOptions = {}): MatchResult {
  if (source.link) return { kind: 'matched', id: source.link, by: 'link', reason: `stored link to ${source.link}` };
  switch (strategy) {
    case 'email':
      return chooseByEmail(source, candidates, opts);
    case 'domainThenName':
      return chooseByDomainThenName(source, candidates, opts);
    case 'link':
      return { kind: 'none', reason: 'not linked yet (this object is matched only by its stored link)' };
  }
}
