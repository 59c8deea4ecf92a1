import { braced } from '../ids.ts';
import { logicalNameOf, type ColumnDef, type FormTabDef, type KeyDef, type SolutionDefinition, type TableDef } from '../definition.ts';
import { INTRODUCED_VERSION, labels } from './common.ts';
import { el, txt, type XmlNode } from './writer.ts';

/**
 * `<Entities>`: our columns and alternate key on the four system tables, and the HubSpot tab on the lead and
 * contact main forms. The tables themselves are shells (RootComponent behavior 2): only what is listed here
 * is ours, the rest of the table stays Microsoft's.
 */

/** Web resource control of FormXml (classid tables; reference/dataverse.md §1.6). */
export const WEB_RESOURCE_CONTROL_CLASSID = '{9FDF5F91-88B1-47f4-AD53-C11EFC01A01D}';

function typeSpecific(table: string, c: ColumnDef): XmlNode[] {
  switch (c.type) {
    case 'text':
      // Length is twice MaxLength in real exports (bytes of nvarchar).
      return [txt('Type', 'nvarchar'), txt('Format', c.format), txt('MaxLength', c.maxLength), txt('Length', c.maxLength * 2)];
    case 'memo':
      return [txt('Type', 'ntext'), txt('Format', 'textarea'), txt('MaxLength', c.maxLength), txt('Length', c.maxLength * 2)];
    case 'datetime':
      // Behavior 1 = UserLocal: stored in UTC, shown in the user's time zone (a sync timestamp is an instant).
      return [txt('Type', 'datetime'), txt('Format', 'datetime'), txt('Behavior', 1), txt('CanChangeDateTimeBehavior', false)];
    case 'choice':
      return [txt('Type', 'picklist'), txt('AppDefaultValue', -1), optionSet(table, c)];
  }
}

function optionSet(table: string, c: Extract<ColumnDef, { type: 'choice' }>): XmlNode {
  return el('optionset', { Name: `${table}_${logicalNameOf(c)}` },
    txt('OptionSetType', 'picklist'),
    txt('IsGlobal', false),
    txt('IntroducedVersion', INTRODUCED_VERSION),
    txt('IsCustomizable', true),
    labels('displaynames', 'displayname', c.displayName),
    labels('Descriptions', 'Description', c.description),
    el('options', {}, c.options.map((o) => el('option', { value: o.value }, labels('labels', 'label', o.label)))),
  );
}

export function attributeXml(table: string, c: ColumnDef): XmlNode {
  // Type first (as in exports), the rest of the type-specific elements after the common ones.
  const specific = typeSpecific(table, c);
  return el('attribute', { PhysicalName: c.schemaName },
    specific[0],
    txt('Name', logicalNameOf(c)),
    txt('LogicalName', logicalNameOf(c)),
    txt('RequiredLevel', 'none'),
    txt('DisplayMask', 'ValidForAdvancedFind|ValidForForm|ValidForGrid'),
    txt('ImeMode', 'auto'),
    txt('ValidForUpdateApi', true),
    txt('ValidForReadApi', true),
    txt('ValidForCreateApi', true),
    txt('IsCustomField', true),
    txt('IsAuditEnabled', false),
    txt('IsSecured', false),
    txt('IntroducedVersion', INTRODUCED_VERSION),
    txt('IsCustomizable', true),
    txt('IsRenameable', true),
    txt('CanModifySearchSettings', true),
    txt('CanModifyRequirementLevelSettings', true),
    txt('CanModifyAdditionalSettings', true),
    txt('SourceType', 0),
    specific.slice(1),
    labels('displaynames', 'displayname', c.displayName),
    labels('Descriptions', 'Description', c.description),
  );
}

export function keyXml(k: KeyDef): XmlNode {
  return el('EntityKey', {},
    txt('Name', k.schemaName),
    txt('LogicalName', k.schemaName.toLowerCase()),
    txt('IntroducedVersion', INTRODUCED_VERSION),
    txt('IsCustomizable', true),
    labels('displaynames', 'displayname', k.displayName),
    el('EntityKeyAttributes', {}, k.columns.map((c) => txt('AttributeName', c))),
  );
}

/**
 * A managed change to a form we do not own is written as diff FormXml: only the new tab, marked
 * `solutionaction="Added"`, inside a minimal systemform shell. Dataverse merges it into whatever the
 * customer's form looks like and removes exactly that tab on uninstall; a full form would overwrite the
 * customer's layout (learn power-platform/alm/form-alm).
 */
export function formTabXml(t: FormTabDef): XmlNode {
  const wr = t.control.webResource;
  const label = (text: string) => labels('labels', 'label', text);
  const tab = el('tab', {
    name: t.tab.name, id: braced(t.tab.id), IsUserDefined: 0, locklevel: 0, showlabel: 'true', expanded: 'true', verticallayout: 'true', solutionaction: 'Added',
  },
  label(t.tab.label),
  el('columns', {}, el('column', { width: '100%' }, el('sections', {},
    el('section', {
      name: t.section.name, showlabel: 'false', showbar: 'false', locklevel: 0, id: braced(t.section.id), IsUserDefined: 0,
      layout: 'varwidth', columns: 1, labelwidth: 115, celllabelalignment: 'Left', celllabelposition: 'Left',
    },
    label(t.tab.label),
    el('rows', {}, el('row', {},
      el('cell', { id: braced(t.cell.id), showlabel: 'false', colspan: 1, auto: 'false', rowspan: t.cell.rowspan },
        label(t.tab.label),
        el('control', { id: t.control.id, classid: WEB_RESOURCE_CONTROL_CLASSID },
          el('parameters', {},
            txt('Url', wr.name),
            // id, typename, orgname, userlcid… on the query string: the panel knows which record it shows.
            txt('PassParameters', 'true'),
            // Security=false: no cross-frame scripting restriction needed, the page never touches the parent form.
            txt('Security', 'false'),
            txt('Scrolling', 'auto'),
            txt('Border', 'false'),
            txt('ShowOnMobileClient', 'true'),
            txt('WebResourceId', braced(wr.id)),
          ),
        ),
      ),
    )),
    ),
  ))));
  return el('systemform', {},
    txt('formid', braced(t.formId)),
    txt('IntroducedVersion', INTRODUCED_VERSION),
    txt('FormPresentation', 1),
    txt('FormActivationState', 1),
    el('form', {}, el('tabs', {}, tab)),
    txt('IsCustomizable', true),
    txt('CanBeDeleted', false),
    labels('LocalizedNames', 'LocalizedName', t.formName),
  );
}

export function entityXml(table: TableDef, tabs: FormTabDef[]): XmlNode {
  return el('Entity', {},
    el('Name', { LocalizedName: table.displayName, OriginalName: table.displayName }, table.displayName),
    el('EntityInfo', {}, el('entity', { Name: table.displayName },
      el('attributes', {}, table.columns.map((c) => attributeXml(table.logicalName, c))),
      table.keys.length ? el('EntityKeys', {}, table.keys.map(keyXml)) : undefined,
    )),
    tabs.length ? el('FormXml', {}, el('forms', { type: 'main' }, tabs.map(formTabXml))) : undefined,
  );
}

export function entitiesXml(def: SolutionDefinition): XmlNode {
  return el('Entities', {}, def.tables.map((t) => entityXml(t, def.formTabs.filter((f) => f.entity === t.logicalName))));
}
