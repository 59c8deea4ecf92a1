import { column, table, type AttributeDef, type TableDef } from '../tables.ts';

/**
 * The solution-system tables a fresh org has: publisher, solution, solutioncomponent, webresource (entity
 * set `webresourceset`, as in Dataverse), systemform (primary id `formid`) and importjob. They are plain
 * tables of the sandbox's schema, so the ordinary Web API reads them (`GET systemforms(<id>)`).
 */

const str = (logicalName: string, maxLength = 100, extra: Partial<AttributeDef> = {}) => column({ logicalName, kind: 'String', maxLength, ...extra });
const memo = (logicalName: string, maxLength = 1_073_741_823) => column({ logicalName, kind: 'Memo', maxLength });
const bool = (logicalName: string) => column({ logicalName, kind: 'Boolean', options: [{ value: 0, label: 'No' }, { value: 1, label: 'Yes' }] });
const int = (logicalName: string) => column({ logicalName, kind: 'Integer', minValue: -2147483648, maxValue: 2147483647 });
const date = (logicalName: string) => column({ logicalName, kind: 'DateTime' });
const uid = (logicalName: string) => column({ logicalName, kind: 'Uniqueidentifier' });
const lookup = (logicalName: string, target: string) => column({ logicalName, kind: 'Lookup', targets: [target] });
const picklist = (logicalName: string, labels: Array<[number, string]>) =>
  column({ logicalName, kind: 'Picklist', options: labels.map(([value, label]) => ({ value, label })) });

/** solutioncomponent.componenttype values this sandbox writes (learn reference/entities/solutioncomponent). */
export const ComponentType = { Entity: 1, Attribute: 2, EntityKey: 14, SystemForm: 60, WebResource: 61, SdkMessageProcessingStep: 92, ServiceEndpoint: 95 } as const;

export const WEB_RESOURCE_TYPES: Array<[number, string]> = [
  [1, 'Webpage (HTML)'], [2, 'Style Sheet (CSS)'], [3, 'Script (JScript)'], [4, 'Data (XML)'], [5, 'PNG format'], [6, 'JPG format'],
  [7, 'GIF format'], [8, 'Silverlight (XAP)'], [9, 'Style Sheet (XSL)'], [10, 'ICO format'], [11, 'Vector format (SVG)'], [12, 'String (RESX)'],
];

export function solutionTables(): TableDef[] {
  return [
    table({
      logicalName: 'publisher', entitySetName: 'publishers', primaryName: 'friendlyname', objectTypeCode: 7101, displayName: 'Publisher',
      displayCollectionName: 'Publishers', ownership: 'OrganizationOwned',
      columns: [
        str('uniquename', 256), str('friendlyname', 256), memo('description', 2000), str('customizationprefix', 8),
        int('customizationoptionvalueprefix'), str('emailaddress', 100), str('supportingwebsiteurl', 200), bool('isreadonly'),
      ],
    }),
    table({
      logicalName: 'solution', entitySetName: 'solutions', primaryName: 'friendlyname', objectTypeCode: 7100, displayName: 'Solution',
      displayCollectionName: 'Solutions', ownership: 'OrganizationOwned',
      columns: [
        str('uniquename', 65), str('friendlyname', 256), str('version', 256), bool('ismanaged'), bool('isvisible'),
        lookup('publisherid', 'publisher'), memo('description', 2000), date('installedon'), date('updatedon'),
      ],
    }),
    table({
      logicalName: 'solutioncomponent', entitySetName: 'solutioncomponents', primaryName: 'solutioncomponentid', objectTypeCode: 7103,
      displayName: 'Solution Component', displayCollectionName: 'Solution Components', ownership: 'OrganizationOwned',
      columns: [
        lookup('solutionid', 'solution'), uid('objectid'), bool('ismetadata'), uid('rootsolutioncomponentid'),
        picklist('componenttype', [[1, 'Entity'], [2, 'Attribute'], [14, 'Entity Key'], [60, 'System Form'], [61, 'Web Resource'], [92, 'SDK Message Processing Step'], [95, 'Service Endpoint']]),
        picklist('rootcomponentbehavior', [[0, 'Include Subcomponents'], [1, 'Do not include subcomponents'], [2, 'Include As Shell Only']]),
      ],
    }),
    table({
      logicalName: 'webresource', entitySetName: 'webresourceset', primaryName: 'name', objectTypeCode: 9333, displayName: 'Web Resource',
      displayCollectionName: 'Web Resources', ownership: 'OrganizationOwned',
      columns: [
        str('name', 256), str('displayname', 200), memo('description', 2000), picklist('webresourcetype', WEB_RESOURCE_TYPES),
        memo('content'), int('languagecode'), bool('ismanaged'), bool('isenabledformobileclient'), bool('ishidden'), str('introducedversion', 48),
      ],
    }),
    table({
      logicalName: 'systemform', primaryId: 'formid', entitySetName: 'systemforms', primaryName: 'name', objectTypeCode: 1030,
      displayName: 'System Form', displayCollectionName: 'System Forms', ownership: 'OrganizationOwned',
      columns: [
        str('name', 100), memo('description', 2000), str('objecttypecode', 64), memo('formxml'),
        picklist('type', [[0, 'Dashboard'], [1, 'AppointmentBook'], [2, 'Main'], [5, 'Mobile'], [6, 'Quick View Form'], [7, 'Quick Create'], [11, 'Main - Interactive experience'], [12, 'Card']]),
        picklist('formactivationstate', [[0, 'Inactive'], [1, 'Active']]), picklist('formpresentation', [[0, 'ClassicForm'], [1, 'AirForm'], [2, 'ConvertedICForm']]),
        bool('isdefault'), bool('ismanaged'), str('introducedversion', 48),
      ],
    }),
    table({
      logicalName: 'importjob', entitySetName: 'importjobs', primaryName: 'name', objectTypeCode: 9107, displayName: 'Import Job',
      displayCollectionName: 'Import Jobs', ownership: 'OrganizationOwned',
      columns: [str('name', 100), str('solutionname', 256), column({ logicalName: 'progress', kind: 'Double' }), memo('data'), date('startedon'), date('completedon')],
    }),
  ];
}
