/**
 * A believable history for a demo contact, so the HubSpot tab in Dynamics has something to show: a few
 * activities logged through the public API as a person would (each associated to the contact), and website,
 * form and marketing-email activity through the sandbox's analytics control route. Dates are relative to now.
 */

export interface DemoPortal {
  baseUrl: string;
  portalId: number;
  /** A person's token: the activities appear as logged in the CRM. */
  userToken: string;
}

const DAY = 86_400_000;

/** Activity type, its HubSpot-defined association type id to a contact, and its properties. */
const ACTIVITIES: Array<[string, number, (at: (daysAgo: number) => string) => Record<string, string>]> = [
  ['notes', 202, (at) => ({ hs_timestamp: at(9), hs_note_body: '<p>Met at the Seattle roadshow; interested in the <b>enterprise</b> plan.</p>' })],
  ['emails', 198, (at) => ({ hs_timestamp: at(6), hs_email_subject: 'Follow-up: pricing for 50 seats', hs_email_direction: 'EMAIL', hs_email_status: 'SENT' })],
  ['calls', 194, (at) => ({ hs_timestamp: at(4), hs_call_title: 'Discovery call', hs_call_direction: 'OUTBOUND', hs_call_status: 'COMPLETED', hs_call_duration: '1260000' })],
  ['meetings', 200, (at) => ({ hs_timestamp: at(2), hs_meeting_title: 'Product demo', hs_meeting_outcome: 'COMPLETED' })],
  ['tasks', 204, (at) => ({ hs_timestamp: at(-3), hs_task_subject: 'Send the quote', hs_task_status: 'NOT_STARTED', hs_task_priority: 'HIGH' })],
];

export async function seedContactActivity(p: DemoPortal, contactId: string, now = Date.now()): Promise<void> {
  const at = (daysAgo: number) => new Date(now - daysAgo * DAY).toISOString();
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(`${p.baseUrl}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`seeding HubSpot activity ${path} failed: HTTP ${res.status} ${await res.text()}`);
  };
  for (const [type, toContact, properties] of ACTIVITIES) {
    await post(`/crm/v3/objects/${type}`, {
      properties: properties(at), associations: [{ to: { id: contactId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: toContact }] }],
    }, p.userToken);
  }
  await post(`/__sandbox/portals/${p.portalId}/contacts/${encodeURIComponent(contactId)}/activity`, {
    visits: [
      { at: at(12), pages: ['https://www.example.com/', 'https://www.example.com/product'] },
      { at: at(5), pages: ['https://www.example.com/pricing', 'https://www.example.com/pricing/enterprise', 'https://www.example.com/customers'] },
      { at: at(1), pages: ['https://www.example.com/docs/getting-started'] },
    ],
    formSubmissions: [{ form: 'Newsletter sign-up', at: at(12) }, { form: 'Request a demo', at: at(5) }],
    marketingEmails: [{ name: 'Spring product update', at: at(10), opened: true, clicked: true }, { name: 'Customer stories', at: at(3), opened: true }],
  });
}
