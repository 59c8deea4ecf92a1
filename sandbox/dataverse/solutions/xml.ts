import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * A small element tree over fast-xml-parser's order-preserving output. Order matters here: FormXml tabs are
 * shown in document order and an imported tab is copied verbatim into the stored form, so the tree must
 * round-trip. Element and attribute names compare exactly, as Dataverse's XSD-validated import does.
 */

type Raw = Record<string, unknown>;

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated direct text content (trimmed). */
  text: string;
}

const OPTIONS = {
  preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, parseAttributeValue: false,
  trimValues: true, commentPropName: '#comment',
} as const;

export class XmlSyntaxError extends Error {
  constructor(readonly file: string, message: string, readonly line?: number) {
    super(message);
  }
}

/** Parses one document; a BOM (real exports write one) is skipped. Returns the root element. */
export function parseXml(file: string, source: string): XmlElement {
  const xml = source.replace(/^\uFEFF/, '');
  const check = XMLValidator.validate(xml);
  if (check !== true) throw new XmlSyntaxError(file, check.err.msg, check.err.line);
  const raw = new XMLParser(OPTIONS).parse(xml) as Raw[];
  const roots = raw.map(toElement).filter((e): e is XmlElement => !!e && !e.name.startsWith('?'));
  if (roots.length !== 1) throw new XmlSyntaxError(file, 'The document must have exactly one root element.');
  return roots[0];
}

function toElement(node: Raw): XmlElement | undefined {
  const name = Object.keys(node).find((k) => k !== ':@');
  if (!name || name === '#text' || name === '#comment') return undefined;
  const kids = (node[name] as Raw[]) ?? [];
  const attrs = { ...((node[':@'] as Record<string, string> | undefined) ?? {}) };
  const text = kids.filter((k) => '#text' in k).map((k) => String(k['#text'])).join('').trim();
  return { name, attrs, children: kids.map(toElement).filter((e): e is XmlElement => !!e), text };
}

function toRaw(e: XmlElement): Raw {
  const kids: Raw[] = e.children.map(toRaw);
  if (e.text) kids.unshift({ '#text': e.text });
  const raw: Raw = { [e.name]: kids };
  if (Object.keys(e.attrs).length) raw[':@'] = e.attrs;
  return raw;
}

/** Serialises an element (entities escaped, empty elements self-closed). */
export function buildXml(e: XmlElement): string {
  return new XMLBuilder({ ...OPTIONS, suppressEmptyNode: true }).build([toRaw(e)]) as string;
}

export const child = (e: XmlElement | undefined, name: string): XmlElement | undefined => e?.children.find((c) => c.name === name);
export const childrenOf = (e: XmlElement | undefined, name: string): XmlElement[] => e?.children.filter((c) => c.name === name) ?? [];
export const textOf = (e: XmlElement | undefined, name: string): string | undefined => child(e, name)?.text;

/** Follows a path of element names, e.g. `path(form, 'tabs', 'tab')` → every tab. */
export function path(e: XmlElement | undefined, ...names: string[]): XmlElement[] {
  let level: XmlElement[] = e ? [e] : [];
  for (const n of names) level = level.flatMap((x) => childrenOf(x, n));
  return level;
}

/** `{5B0C…}` / `5b0c…` → `5b0c…` (ids compare without braces, case-insensitively). */
export const normGuid = (s: string | undefined): string => (s ?? '').trim().replace(/^\{|\}$/g, '').toLowerCase();

export const GUID = /^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$/;
