import type { StoredRecord } from './contracts.ts';
import { Codes, DataverseError } from './errors.ts';
import { parseJsonBody } from './write.ts';
import { reference } from './store.ts';
import type { ApiRequest, ApiResponse, WebApi } from './api.ts';
import type { TableDef } from './tables.ts';

/**
 * Functions and actions: WhoAmI and the bound QualifyLead action. QualifyLead runs its creates and the
 * lead update as one transaction, so either every Create/Update change is published or none is.
 */

export interface OrgIds { organizationId: string; businessUnitId: string }

export function registerActions(api: WebApi, org: OrgIds): void {
  api.route('WhoAmI', (req) => {
    if (req.method !== 'GET') throw new DataverseError(405, Codes.OData, `The HTTP method '${req.method}' is not allowed for WhoAmI; it is a function (GET).`);
    return {
      status: 200, headers: {},
      json: {
        '@odata.context': `${api.base}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse`,
        BusinessUnitId: org.businessUnitId, UserId: req.principal.systemUserId, OrganizationId: org.organizationId,
      },
    };
  });
  api.boundAction('QualifyLead', qualifyLead);
}

const COPY_TO_CONTACT = ['firstname', 'lastname', 'emailaddress1', 'jobtitle', 'telephone1', 'mobilephone', 'address1_line1', 'address1_line2', 'address1_city', 'address1_stateorprovince', 'address1_postalcode', 'address1_country', 'donotemail'];
const COPY_TO_ACCOUNT = ['websiteurl', 'telephone1', 'emailaddress1', 'industrycode', 'numberofemployees', 'revenue', 'address1_line1', 'address1_line2', 'address1_city', 'address1_stateorprovince', 'address1_postalcode', 'address1_country'];

function pick(row: StoredRecord, columns: string[]): StoredRecord {
  const out: StoredRecord = {};
  for (const c of columns) if (row[c] !== null && row[c] !== undefined) out[c] = row[c];
  return out;
}

function qualifyLead(req: ApiRequest, def: TableDef, id: string, api: WebApi): ApiResponse {
  if (def.logicalName !== 'lead') throw new DataverseError(404, Codes.OData, `Resource not found for the segment 'Microsoft.Dynamics.CRM.QualifyLead'.`);
  const body = parseJsonBody(req.body, 'leads');
  for (const flag of ['CreateAccount', 'CreateContact', 'CreateOpportunity']) {
    if (typeof body[flag] !== 'boolean') throw new DataverseError(400, Codes.InvalidArgument, `Required parameter '${flag}' (Edm.Boolean) is missing or not a boolean for the QualifyLead action.`);
  }
  if (!Number.isInteger(body.Status)) throw new DataverseError(400, Codes.InvalidArgument, `Required parameter 'Status' (Edm.Int32) is missing for the QualifyLead action.`);
  const statusAttr = api.schema.attribute('lead', 'statuscode')!;
  if (statusAttr.options!.find((o) => o.value === body.Status)?.state !== 1) {
    throw new DataverseError(400, Codes.InvalidArgument, `${body.Status} is not a valid status code for state code LeadState.Qualified on lead with Id ${id}.`);
  }
  const lead = api.store.get('lead', id)!;
  if (lead.statecode !== 0) {
    throw new DataverseError(400, '0x80048594', 'The lead is closed. You cannot convert or qualify a lead that is already closed.');
  }
  const store = api.store;
  const ownTx = !req.tx;
  const tx = req.tx ?? store.begin();
  const ctx = { ...api.ctx(req), tx };
  const created: Array<{ def: TableDef; id: string }> = [];
  try {
    const leadRef = reference('lead', id);
    let account: StoredRecord | undefined;
    let contact: StoredRecord | undefined;
    if (body.CreateAccount) {
      if (!lead.companyname) throw new DataverseError(400, Codes.InvalidArgument, 'Cannot create an account from a lead without a company name (companyname).');
      account = store.create('account', { name: lead.companyname, ...pick(lead, COPY_TO_ACCOUNT), originatingleadid: leadRef, ownerid: lead.ownerid }, ctx);
      created.push({ def: api.schema.table('account')!, id: account.accountid as string });
    }
    if (body.CreateContact) {
      contact = store.create('contact', {
        ...pick(lead, COPY_TO_CONTACT), originatingleadid: leadRef, ownerid: lead.ownerid,
        parentcustomerid: account ? reference('account', account.accountid as string) : null,
      }, ctx);
      created.push({ def: api.schema.table('contact')!, id: contact.contactid as string });
    }
    let opportunity: StoredRecord | undefined;
    if (body.CreateOpportunity) {
      const customer = account ? reference('account', account.accountid as string) : contact ? reference('contact', contact.contactid as string) : null;
      opportunity = store.create('opportunity', {
        name: lead.subject ?? lead.fullname, originatingleadid: leadRef, ownerid: lead.ownerid, customerid: customer,
        parentaccountid: account ? reference('account', account.accountid as string) : null,
        parentcontactid: contact ? reference('contact', contact.contactid as string) : null,
        description: lead.description,
      }, ctx);
      created.push({ def: api.schema.table('opportunity')!, id: opportunity.opportunityid as string });
    }
    const leadUpdate: StoredRecord = { statecode: 1, statuscode: body.Status as number };
    if (account) leadUpdate.parentaccountid = reference('account', account.accountid as string);
    if (contact) leadUpdate.parentcontactid = reference('contact', contact.contactid as string);
    if (opportunity) leadUpdate.qualifyingopportunityid = reference('opportunity', opportunity.opportunityid as string);
    store.update('lead', id, leadUpdate, ctx);
    if (ownTx) store.commit(tx);
  } catch (err) {
    if (ownTx) store.rollback(tx);
    throw err;
  }
  return {
    status: 200, headers: {},
    json: {
      '@odata.context': `${api.base}$metadata#Collection(Microsoft.Dynamics.CRM.crmbaseentity)`,
      value: created.map((c) => ({ '@odata.type': `#Microsoft.Dynamics.CRM.${c.def.logicalName}`, [c.def.primaryIdAttribute]: c.id })),
    },
  };
}
