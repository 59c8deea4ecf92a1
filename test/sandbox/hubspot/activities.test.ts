import assert from 'node:assert/strict';
import { client, failure, raw, useSandbox } from './helpers.ts';

/** Activities (emails, calls, meetings, notes, tasks) and contact analytics, as the HubSpot tab reads them. */
describe('hubspot sandbox: activities and contact analytics', () => {
  const ctx = useSandbox({ rateLimits: { enabled: false } });

  const TO_CONTACT = { emails: 198, calls: 194, meetings: 200, notes: 202, tasks: 204 } as const;

  it('creates each activity type with its properties, associated to a contact, and reads them back through v3 and v4', async () => {
    const hs = client(ctx.sb);
    const contact = await hs.crm.contacts.basicApi.create({ properties: { email: 'pat@example.com' }, associations: [] });
    const made: Record<string, string> = {};
    const props = {
      emails: { hs_email_subject: 'Pricing question', hs_email_direction: 'INCOMING_EMAIL', hs_email_status: 'SENT' },
      calls: { hs_call_title: 'Discovery call', hs_call_direction: 'OUTBOUND', hs_call_duration: '600000' },
      meetings: { hs_meeting_title: 'Demo', hs_meeting_start_time: '2026-11-03T15:00:00Z', hs_meeting_outcome: 'SCHEDULED' },
      notes: { hs_note_body: '<p>Wants a <b>quote</b></p>' },
      tasks: { hs_task_subject: 'Send quote', hs_task_status: 'NOT_STARTED', hs_task_priority: 'HIGH' },
    };
    let day = 1;
    for (const [type, p] of Object.entries(props) as Array<[keyof typeof TO_CONTACT, Record<string, string>]>) {
      const res = await raw(ctx.sb, 'POST', `/crm/v3/objects/${type}`, {
        properties: { hs_timestamp: `2026-11-0${day++}T10:00:00.000Z`, hubspot_owner_id: ctx.sb.portal.ownerId, ...p },
        associations: [{ to: { id: contact.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: TO_CONTACT[type] }] }],
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.ok(res.body.properties.hs_createdate, 'server-set creation date');
      assert.equal(res.body.properties.createdate, undefined, 'activities use hs_createdate');
      made[type] = res.body.id;
    }

    const v3 = await hs.crm.contacts.basicApi.getById(contact.id, ['email'], undefined, Object.keys(TO_CONTACT));
    for (const [type, id] of Object.entries(made)) {
      const results = (v3.associations as Record<string, { results: Array<{ id: string; type: string }> }>)[type].results;
      assert.deepEqual(results.map((r) => `${r.id}:${r.type}`), [`${id}:contact_to_${type.slice(0, -1)}`]);
    }
    const v4 = await hs.crm.associations.v4.basicApi.getPage('contacts', contact.id, 'notes');
    assert.deepEqual(v4.results.map((r) => [String(r.toObjectId), r.associationTypes.map((t) => t.typeId)]), [[made.notes, [201]]]);
    const back = await hs.crm.associations.v4.basicApi.getPage('emails', made.emails, 'contacts');
    assert.deepEqual(back.results[0].associationTypes.map((t) => t.typeId), [198]);

    const batch = await hs.crm.objects.batchApi.read('calls', { inputs: [{ id: made.calls }], properties: ['hs_call_title', 'hs_timestamp', 'hs_call_duration'], propertiesWithHistory: [] });
    assert.deepEqual(batch.results[0].properties, { hs_call_title: 'Discovery call', hs_timestamp: '2026-11-02T10:00:00.000Z', hs_call_duration: '600000' });
    const note = await raw(ctx.sb, 'GET', `/crm/v3/objects/0-46/${made.notes}`);
    assert.equal(note.body.properties.hs_note_body, '<p>Wants a <b>quote</b></p>', 'object type ids work in paths; default read properties include the body');

    const found = await hs.crm.objects.searchApi.doSearch('tasks', { filterGroups: [{ filters: [{ propertyName: 'hs_task_priority', operator: 'EQ' as any, value: 'HIGH' }] }], properties: ['hs_task_subject'], sorts: [], limit: 10, after: '0' });
    assert.deepEqual(found.results.map((r) => r.properties.hs_task_subject), ['Send quote']);
    const meta = await hs.crm.properties.coreApi.getByName('emails', 'hs_email_direction');
    assert.deepEqual(meta.options.map((o) => o.value), ['EMAIL', 'INCOMING_EMAIL', 'FORWARDED_EMAIL']);
  });

  it('refuses an activity without hs_timestamp, a bad option, and association types of another pair', async () => {
    const hs = client(ctx.sb);
    const contact = await hs.crm.contacts.basicApi.create({ properties: { email: 'q@example.com' }, associations: [] });
    const noTime = await raw(ctx.sb, 'POST', '/crm/v3/objects/notes', { properties: { hs_note_body: 'x' } });
    assert.equal(noTime.status, 400);
    assert.equal(noTime.body.category, 'VALIDATION_ERROR');
    assert.match(noTime.body.message, /hs_timestamp/);
    const badOption = await raw(ctx.sb, 'POST', '/crm/v3/objects/tasks', { properties: { hs_timestamp: '1767225600000', hs_task_status: 'DONE' } });
    assert.equal(badOption.status, 400);
    assert.match(badOption.body.message, /INVALID_OPTION/);
    const wrongType = await raw(ctx.sb, 'POST', '/crm/v3/objects/emails', {
      properties: { hs_timestamp: '1767225600000' },
      associations: [{ to: { id: contact.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 202 }] }],
    });
    assert.equal(wrongType.status, 400, 'note→contact is not an email type');
    const e = await failure(hs.crm.associations.v4.basicApi.create('emails', '424242', 'contacts', contact.id, [{ associationCategory: 'HUBSPOT_DEFINED' as any, associationTypeId: 198 }]));
    assert.equal(e.code, 400);
  });

  it('records website visits, form submissions and marketing emails as the read-only analytics properties', async () => {
    const hs = client(ctx.sb);
    const contact = await hs.crm.contacts.basicApi.create({ properties: { email: 'visitor@example.com' }, associations: [] });
    const activity = (body: unknown) => raw(ctx.sb, 'POST', `/__sandbox/portals/${ctx.sb.portal.portalId}/contacts/${contact.id}/activity`, body, null);
    assert.equal((await activity({
      visits: [{ at: '2026-10-01T09:00:00Z', pages: ['https://example.com/', 'https://example.com/pricing'] }, { at: '2026-10-05T09:00:00Z', pages: ['https://example.com/docs'] }],
      formSubmissions: [{ form: 'Newsletter', at: '2026-10-01T09:05:00Z' }],
      marketingEmails: [{ name: 'October news', at: '2026-10-02T08:00:00Z', opened: true, clicked: true }, { name: 'Webinar invite', at: '2026-10-04T08:00:00Z' }],
    })).status, 200);
    const second = await activity({ visits: [{ at: '2026-09-01T09:00:00Z', pages: ['https://example.com/blog'] }], formSubmissions: [{ form: 'Contact us', at: '2026-10-06T10:00:00Z' }, { form: 'Newsletter', at: '2026-10-06T11:00:00Z' }] });
    assert.equal(second.status, 200);

    const names = ['hs_analytics_num_page_views', 'hs_analytics_num_visits', 'hs_analytics_first_visit_timestamp', 'hs_analytics_last_visit_timestamp', 'hs_analytics_last_url',
      'num_conversion_events', 'num_unique_conversion_events', 'first_conversion_event_name', 'recent_conversion_event_name', 'recent_conversion_date',
      'hs_email_delivered', 'hs_email_open', 'hs_email_click', 'hs_email_last_email_name', 'hs_email_last_open_date'];
    const read = await hs.crm.contacts.basicApi.getById(contact.id, names);
    assert.deepEqual(Object.fromEntries(names.map((n) => [n, read.properties[n]])), {
      hs_analytics_num_page_views: '4', hs_analytics_num_visits: '3',
      hs_analytics_first_visit_timestamp: '2026-09-01T09:00:00.000Z', hs_analytics_last_visit_timestamp: '2026-10-05T09:00:00.000Z', hs_analytics_last_url: 'https://example.com/docs',
      num_conversion_events: '3', num_unique_conversion_events: '2', first_conversion_event_name: 'Newsletter', recent_conversion_event_name: 'Newsletter', recent_conversion_date: '2026-10-06T11:00:00.000Z',
      hs_email_delivered: '2', hs_email_open: '1', hs_email_click: '1', hs_email_last_email_name: 'Webinar invite', hs_email_last_open_date: '2026-10-02T08:00:00.000Z',
    });

    const write = await failure(hs.crm.contacts.basicApi.update(contact.id, { properties: { hs_analytics_num_page_views: '99' } }));
    assert.equal(write.code, 400);
    assert.match(JSON.stringify(write.body), /READ_ONLY_VALUE/, 'calculated by HubSpot, not writable through the API');
    const bad = await activity({ visits: [{ at: 'yesterday', pages: [] }] });
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /visits\[0\]\.at/);
    assert.equal((await raw(ctx.sb, 'POST', `/__sandbox/portals/${ctx.sb.portal.portalId}/contacts/999999/activity`, {}, null)).status, 404);
  });
});
