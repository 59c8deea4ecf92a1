/**
 * A minimal XML writer. The generator needs byte-stable output (same input → same zip), exact element order
 * (the XSD is mostly xs:sequence) and nothing else, so elements are plain data and serialisation is one
 * small function: attributes in the order given, two-space indentation, empty elements self-closed as
 * Dynamics writes them (`<Roles />`).
 */

export interface XmlNode {
  name: string;
  attrs: Array<[string, string]>;
  children: XmlNode[];
  /** Text content; an element has text or children, not both. */
  text?: string;
}

type Attrs = Record<string, string | number | boolean | undefined>;

/** `el('Name', { a: 1 }, child, child)` or `el('Name', {}, 'text')`; undefined attributes and children are dropped. */
export function el(name: string, attrs: Attrs = {}, ...content: Array<XmlNode | string | number | undefined | null | false | XmlNode[]>): XmlNode {
  const node: XmlNode = {
    name,
    attrs: Object.entries(attrs).filter((e): e is [string, string | number | boolean] => e[1] !== undefined).map(([k, v]) => [k, String(v)]),
    children: [],
  };
  for (const c of content.flat()) {
    if (c === undefined || c === null || c === false) continue;
    if (typeof c === 'string' || typeof c === 'number') node.text = (node.text ?? '') + String(c);
    else node.children.push(c);
  }
  if (node.text !== undefined && node.children.length) throw new Error(`<${name}> cannot have both text and child elements`);
  return node;
}

/** Text element, `0/1` for booleans as the solution schema's TrueFalse01Type wants. */
export const txt = (name: string, value: string | number | boolean): XmlNode => el(name, {}, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));

export const escapeText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
export const escapeAttr = (s: string): string => escapeText(s).replace(/"/g, '&quot;');

export function serialize(node: XmlNode, indent = 0): string {
  const pad = '  '.repeat(indent);
  const attrs = node.attrs.map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join('');
  if (node.text !== undefined && node.text !== '') return `${pad}<${node.name}${attrs}>${escapeText(node.text)}</${node.name}>`;
  // `<Path></Path>` and `<X xsi:nil="true"></X>` are written open/close in real exports; everything else empty self-closes.
  if (node.text === '') return `${pad}<${node.name}${attrs}></${node.name}>`;
  if (!node.children.length) return `${pad}<${node.name}${attrs} />`;
  return `${pad}<${node.name}${attrs}>\n${node.children.map((c) => serialize(c, indent + 1)).join('\n')}\n${pad}</${node.name}>`;
}

/** UTF-8 byte order mark: real solution exports start every XML file with one. */
export const BOM = '\uFEFF';

export function xmlDocument(root: XmlNode): string {
  return `${BOM}<?xml version="1.0" encoding="utf-8"?>\n${serialize(root)}\n`;
}

/** Removes every `solutionaction` attribute (the 9.0 XSD does not know it on tabs; see shared/schemas SOURCE.txt). */
export const stripSolutionAction = (xml: string): string => xml.replace(/\s+solutionaction="[^"]*"/g, '');
