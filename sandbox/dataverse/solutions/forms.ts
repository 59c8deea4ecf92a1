import { buildXml, child, normGuid, parseXml, path, type XmlElement } from './xml.ts';

/**
 * FormXml handling: the org's default main forms (so a managed diff form has something to merge into),
 * merging tabs added by a solution, and taking them out again on uninstall. Stored formxml is the merged
 * result without `solutionaction` markers, as Dataverse shows it through `systemforms(<id>)`.
 */

/** Default main forms (ids are the same in every org; reference/dataverse.md §1.6). */
export const DEFAULT_MAIN_FORMS: Array<{ entity: string; formId: string; name: string; fields: string[] }> = [
  { entity: 'contact', formId: '1fed44d1-ae68-4a41-bd2b-f13acac4acfa', name: 'Contact', fields: ['firstname', 'lastname', 'jobtitle', 'emailaddress1', 'telephone1', 'mobilephone', 'parentcustomerid'] },
  { entity: 'lead', formId: 'e3b6ddb7-8df0-4410-ac7b-fd32e5053d38', name: 'Lead', fields: ['subject', 'firstname', 'lastname', 'jobtitle', 'emailaddress1', 'companyname', 'telephone1'] },
  { entity: 'account', formId: '8448b78f-8f42-454e-8e2a-f8196b0419af', name: 'Account', fields: ['name', 'telephone1', 'websiteurl', 'emailaddress1', 'primarycontactid'] },
];

export function defaultFormXml(fields: string[]): string {
  const rows = fields.map((f, i) =>
    `<row><cell id="{00000000-0000-4000-8000-0000000001${String(i).padStart(2, '0')}}"><labels><label description="${f}" languagecode="1033" /></labels><control id="${f}" classid="{4273EDBD-AC1D-40d3-9FB2-095C621B552D}" datafieldname="${f}" /></cell></row>`).join('');
  return `<form><tabs><tab name="SUMMARY_TAB" id="{00000000-0000-4000-8000-000000000001}" IsUserDefined="0" showlabel="true" expanded="true"><labels><label description="Summary" languagecode="1033" /></labels><columns><column width="100%"><sections><section name="GENERAL" id="{00000000-0000-4000-8000-000000000002}" showlabel="true" showbar="false" columns="1"><labels><label description="General" languagecode="1033" /></labels><rows>${rows}</rows></section></sections></column></columns></tab></tabs></form>`;
}

function stripSolutionAction(e: XmlElement): XmlElement {
  const { solutionaction: _drop, ...attrs } = e.attrs;
  return { ...e, attrs, children: e.children.map(stripSolutionAction) };
}

/** Appends the tabs (replacing a tab with the same id, so re-import is idempotent). */
export function addTabs(formxml: string, tabs: XmlElement[]): string {
  const form = parseXml('formxml', formxml);
  let tabsEl = child(form, 'tabs');
  if (!tabsEl) form.children.unshift((tabsEl = { name: 'tabs', attrs: {}, children: [], text: '' }));
  const ids = new Set(tabs.map((t) => normGuid(t.attrs.id)));
  tabsEl.children = tabsEl.children.filter((t) => !ids.has(normGuid(t.attrs.id)));
  tabsEl.children.push(...tabs.map(stripSolutionAction));
  return buildXml(form);
}

/** Removes tabs by id (uninstall, or an upgrade that drops a tab). */
export function removeTabs(formxml: string, tabIds: string[]): string {
  const form = parseXml('formxml', formxml);
  const ids = new Set(tabIds.map(normGuid));
  const tabsEl = child(form, 'tabs');
  if (tabsEl) tabsEl.children = tabsEl.children.filter((t) => !ids.has(normGuid(t.attrs.id)));
  return buildXml(form);
}

export const formXmlOf = (form: XmlElement): string => buildXml(stripSolutionAction(form));

export const tabsOf = (formxml: string): XmlElement[] => path(parseXml('formxml', formxml), 'tabs', 'tab');
