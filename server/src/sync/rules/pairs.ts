import type { MatchStrategy } from './match.ts';
import type { Direction, DynamicsType, HubSpotType } from './types.ts';

/**
 * The five object pairs and the default field mapping of each, as data. The README renders the table from
 * here (renderMappingMarkdown), so documentation and behaviour cannot drift apart.
 */

export type PairId = 'lead' | 'contact' | 'account' | 'opportunity' | 'systemuser';
export type HubSpotObject = 'contacts' | 'companies' | 'deals' | 'owners';

export interface ObjectPair {
  id: PairId;
  dynamicsEntity: PairId;
  entitySetName: string;
  primaryId: string;
  primaryName: string;
  hubspotObject: HubSpotObject;
  match: MatchStrategy | 'ownerEmail';
  /** Columns/properties holding the match key on each side. */
  matchFields: { dynamics: string[]; hubspot: string[] };
  /** Record-level modification time on each side (conflict rule input, HubSpot poll cursor). */
  modifiedOn: { dynamics: string; hubspot: string };
  notes: string;
}

export const PAIRS: readonly ObjectPair[] = [
  {
    id: 'lead', dynamicsEntity: 'lead', entitySetName: 'leads', primaryId: 'leadid', primaryName: 'fullname', hubspotObject: 'contacts',
    match: 'email', matchFields: { dynamics: ['emailaddress1'], hubspot: ['email'] },
    modifiedOn: { dynamics: 'modifiedon', hubspot: 'lastmodifieddate' },
    notes: 'A new HubSpot contact with no match becomes a lead or a contact (tenant setting, default lead).',
  },
  {
    id: 'contact', dynamicsEntity: 'contact', entitySetName: 'contacts', primaryId: 'contactid', primaryName: 'fullname', hubspotObject: 'contacts',
    match: 'email', matchFields: { dynamics: ['emailaddress1'], hubspot: ['email'] },
    modifiedOn: { dynamics: 'modifiedon', hubspot: 'lastmodifieddate' },
    notes: 'A HubSpot contact links to at most one Dynamics record; lead qualification moves the link lead → contact.',
  },
  {
    id: 'account', dynamicsEntity: 'account', entitySetName: 'accounts', primaryId: 'accountid', primaryName: 'name', hubspotObject: 'companies',
    match: 'domainThenName', matchFields: { dynamics: ['websiteurl', 'name'], hubspot: ['domain', 'website', 'name'] },
    modifiedOn: { dynamics: 'modifiedon', hubspot: 'hs_lastmodifieddate' },
    notes: 'Matched by normalised domain (no scheme, no www., lower case), then by company name.',
  },
  {
    id: 'opportunity', dynamicsEntity: 'opportunity', entitySetName: 'opportunities', primaryId: 'opportunityid', primaryName: 'name', hubspotObject: 'deals',
    match: 'link', matchFields: { dynamics: [], hubspot: [] },
    modifiedOn: { dynamics: 'modifiedon', hubspot: 'hs_lastmodifieddate' },
    notes: 'Matched only by the stored link; deal stages ↔ sales stage via the dropdown logic.',
  },
  {
    id: 'systemuser', dynamicsEntity: 'systemuser', entitySetName: 'systemusers', primaryId: 'systemuserid', primaryName: 'fullname', hubspotObject: 'owners',
    match: 'ownerEmail', matchFields: { dynamics: ['internalemailaddress'], hubspot: ['email'] },
    modifiedOn: { dynamics: 'modifiedon', hubspot: 'updatedAt' },
    notes: 'Exact email in both systems; users and owners are never created or written, only looked up.',
  },
];

export function pairById(id: PairId): ObjectPair {
  const p = PAIRS.find((x) => x.id === id);
  if (!p) throw new Error(`unknown pair ${id}`);
  return p;
}

export const pairsForHubSpotObject = (o: HubSpotObject): ObjectPair[] => PAIRS.filter((p) => p.hubspotObject === o);

/**
 * One mapping row. `kind`:
 * - `field`: a value copied with type conversion / dropdown logic;
 * - `owner`: `ownerid` ↔ `hubspot_owner_id` through the owner directory (exact email);
 * - `link`: the ids that tie the two records together, computed by `compute` when not a real column;
 * - `match`: documents the match key of a pair whose records are never written (owners).
 */
export interface FieldMappingRow {
  dynamics: string;
  dynamicsType: DynamicsType;
  hubspot: string;
  hubspotType: HubSpotType;
  direction: Direction;
  kind?: 'field' | 'owner' | 'link' | 'match';
  /** Value derived instead of copied: the table name, the record URL, the domain of a website. */
  compute?: 'dynamicsEntity' | 'dynamicsUrl' | 'domain';
  /** Written only when the target column exists (columns our solution may not install everywhere). */
  optional?: boolean;
  notes?: string;
}

export interface MappingDefaultsOptions {
  /** Publisher prefix of our solution's columns (`<prefix>_hubspotid`). */
  prefix?: string;
}

export const DEFAULT_PREFIX = 'hds';

type Row = FieldMappingRow;
const f = (dynamics: string, dynamicsType: DynamicsType, hubspot: string, hubspotType: HubSpotType, direction: Direction = 'both', notes?: string): Row =>
  ({ dynamics, dynamicsType, hubspot, hubspotType, direction, kind: 'field', ...(notes ? { notes } : {}) });

const NAMES = [
  f('firstname', 'String', 'firstname', 'string'),
  f('lastname', 'String', 'lastname', 'string', 'both', 'Required in Dynamics: a HubSpot contact without one cannot be created there.'),
];
const PERSON = [
  f('emailaddress1', 'String', 'email', 'string', 'both', 'Match key (trimmed, lower case).'),
  f('telephone1', 'String', 'phone', 'phone_number', 'both', 'Business phone.'),
  f('mobilephone', 'String', 'mobilephone', 'phone_number'),
  f('jobtitle', 'String', 'jobtitle', 'string'),
];
const ADDRESS = [
  f('address1_line1', 'String', 'address', 'string'),
  f('address1_city', 'String', 'city', 'string'),
  f('address1_stateorprovince', 'String', 'state', 'string'),
  f('address1_postalcode', 'String', 'zip', 'string'),
  f('address1_country', 'String', 'country', 'string'),
];
const OWNER: Row = {
  dynamics: 'ownerid', dynamicsType: 'Owner', hubspot: 'hubspot_owner_id', hubspotType: 'enumeration', direction: 'both', kind: 'owner',
  notes: 'Through the owner directory (systemuser ↔ owner by exact email); only when owner sync is on. Team-owned records keep HubSpot\'s owner.',
};

function linkRows(primaryId: string, prefix: string): Row[] {
  return [
    { dynamics: primaryId, dynamicsType: 'Uniqueidentifier', hubspot: 'dynamics_id', hubspotType: 'string', direction: 'toHubSpot', kind: 'link', notes: 'Link field (our HubSpot property).' },
    { dynamics: '(table name)', dynamicsType: 'String', hubspot: 'dynamics_entity', hubspotType: 'string', direction: 'toHubSpot', kind: 'link', compute: 'dynamicsEntity', notes: 'lead or contact for contacts; changes when a lead qualifies.' },
    { dynamics: '(record URL)', dynamicsType: 'String', hubspot: 'dynamics_url', hubspotType: 'string', direction: 'toHubSpot', kind: 'link', compute: 'dynamicsUrl', notes: 'Opens the record in Dynamics.' },
    { dynamics: `${prefix}_hubspotid`, dynamicsType: 'String', hubspot: 'hs_object_id', hubspotType: 'number', direction: 'toDynamics', kind: 'link', notes: 'Alternate key used for idempotent upserts (our solution column).' },
  ];
}

const lifecycle = (prefix: string): Row => ({
  ...f(`${prefix}_lifecyclestage`, 'String', 'lifecyclestage', 'enumeration', 'toDynamics',
    'HubSpot label as text; Dynamics has no standard lifecycle column, so this is written only where our solution installs it.'),
  optional: true,
});

const DEFAULTS: Record<PairId, (prefix: string) => Row[]> = {
  lead: (prefix) => [
    ...NAMES, ...PERSON,
    f('companyname', 'String', 'company', 'string'),
    f('websiteurl', 'String', 'website', 'string'),
    ...ADDRESS,
    f('statuscode', 'Status', 'hs_lead_status', 'enumeration', 'both', 'Dropdown by label (New ↔ NEW/New); statecode follows the status.'),
    f('donotemail', 'Boolean', 'hs_email_optout', 'bool', 'toDynamics', 'HubSpot\'s opt-out is read-only through the API, so it only flows to Dynamics.'),
    lifecycle(prefix),
    OWNER,
    ...linkRows('leadid', prefix),
  ],
  contact: (prefix) => [
    ...NAMES, ...PERSON, ...ADDRESS,
    f('birthdate', 'DateTime', 'date_of_birth', 'string', 'both', 'Date only, as YYYY-MM-DD text in HubSpot.'),
    f('donotemail', 'Boolean', 'hs_email_optout', 'bool', 'toDynamics', 'HubSpot\'s opt-out is read-only through the API, so it only flows to Dynamics.'),
    lifecycle(prefix),
    OWNER,
    ...linkRows('contactid', prefix),
  ],
  account: (prefix) => [
    f('name', 'String', 'name', 'string', 'both', 'Fallback match key (normalised).'),
    f('websiteurl', 'String', 'website', 'string'),
    { ...f('websiteurl', 'String', 'domain', 'string', 'toHubSpot', 'Normalised domain of the website: the match key.'), compute: 'domain' },
    f('telephone1', 'String', 'phone', 'phone_number'),
    ...ADDRESS,
    f('description', 'Memo', 'description', 'string'),
    f('industrycode', 'Picklist', 'industry', 'enumeration', 'both', 'Dropdown by label; unmatched HubSpot values are reported, new Dynamics labels are added to HubSpot.'),
    f('customertypecode', 'Picklist', 'type', 'enumeration', 'both', 'Relationship type ↔ company type, by label.'),
    f('numberofemployees', 'Integer', 'numberofemployees', 'number'),
    f('revenue', 'Money', 'annualrevenue', 'number', 'both', 'In the organisation\'s base currency.'),
    lifecycle(prefix),
    OWNER,
    ...linkRows('accountid', prefix),
  ],
  opportunity: (prefix) => [
    f('name', 'String', 'dealname', 'string'),
    f('estimatedvalue', 'Money', 'amount', 'number'),
    f('estimatedclosedate', 'DateTime', 'closedate', 'datetime', 'both', 'Date only in Dynamics; midnight UTC in HubSpot.'),
    f('salesstage', 'Picklist', 'dealstage', 'enumeration', 'both', 'Dropdown by label. Deal stages belong to a pipeline: a missing stage is added to the deal\'s pipeline by the caller.'),
    f('stepname', 'String', 'dealstage', 'enumeration', 'toDynamics', 'The HubSpot stage label as text (Pipeline Phase).'),
    f('description', 'Memo', 'description', 'string'),
    OWNER,
    ...linkRows('opportunityid', prefix),
  ],
  systemuser: () => [
    { dynamics: 'internalemailaddress', dynamicsType: 'String', hubspot: 'email', hubspotType: 'string', direction: 'both', kind: 'match', notes: 'Exact email in both systems; never written.' },
  ],
};

export function defaultMappings(pair: PairId, opts: MappingDefaultsOptions = {}): FieldMappingRow[] {
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  if (!/^[a-z][a-z0-9]{1,7}$/.test(prefix)) throw new Error(`solution prefix '${prefix}' must be 2-8 lower-case letters or digits, starting with a letter`);
  return DEFAULTS[pair](prefix).map((r) => ({ ...r }));
}

const ARROWS: Record<Direction, string> = { both: '⇄', toDynamics: '← (HubSpot → Dynamics)', toHubSpot: '→ (Dynamics → HubSpot)' };
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** One Markdown table of a pair's rows. */
export function renderMappingTable(rows: FieldMappingRow[]): string {
  const lines = [
    '| Dynamics column | Dynamics type | Direction | HubSpot property | HubSpot type | Notes |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const dyn = r.dynamics.startsWith('(') ? r.dynamics : `\`${r.dynamics}\``;
    lines.push(`| ${cell(dyn)} | ${r.dynamicsType} | ${ARROWS[r.direction]} | \`${cell(r.hubspot)}\` | ${r.hubspotType} | ${cell(r.notes ?? '')} |`);
  }
  return lines.join('\n');
}

/** The README section: every pair, its match rule and its default rows. */
export function renderMappingMarkdown(opts: MappingDefaultsOptions = {}): string {
  const out: string[] = [];
  for (const p of PAIRS) {
    out.push(`### Dynamics ${p.dynamicsEntity} (\`${p.entitySetName}\`) ⇄ HubSpot ${p.hubspotObject}`, '');
    out.push(`Matched by: ${p.match === 'ownerEmail' ? 'exact email' : p.match === 'domainThenName' ? 'domain, then name' : p.match}. ${p.notes}`, '');
    out.push(renderMappingTable(defaultMappings(p.id, opts)), '');
  }
  return out.join('\n');
}
