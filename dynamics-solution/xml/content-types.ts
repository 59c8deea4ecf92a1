import { BOM } from './writer.ts';

/**
 * [Content_Types].xml (OPC): a Default for .xml and one Override per extension-less web resource entry, on
 * one line as Dynamics writes it (reference/dataverse-examples/[Content_Types].example.xml).
 */
export function contentTypesXml(webResourceFiles: string[]): string {
  const overrides = webResourceFiles.map((f) => `<Override PartName="${f}" ContentType="application/octet-stream" />`).join('');
  return `${BOM}<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/octet-stream" />${overrides}</Types>`;
}
