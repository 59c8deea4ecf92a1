import { el, type XmlNode } from './writer.ts';

/** Every component of this solution was introduced in its first release; a component added later gets that release's version. */
export const INTRODUCED_VERSION = '1.0.0.0';
/** The one language the solution ships (English). */
export const LANGUAGE = 1033;

/** `<displaynames><displayname description="…" languagecode="1033" /></displaynames>` and its siblings. */
export const labels = (container: string, item: string, text: string): XmlNode =>
  el(container, {}, el(item, { description: text, languagecode: LANGUAGE }));
