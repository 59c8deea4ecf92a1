import { createHash } from 'node:crypto';

/**
 * Stable component ids. Dataverse matches a managed solution's components across versions by id, so the
 * same component must get the same GUID in every build (upgrades update it instead of adding a twin), and
 * the zip must be byte-identical for the same input. A name-based UUID (RFC 4122 version 5, SHA-1) gives
 * both without a registry of hand-picked GUIDs.
 */

/** Our own namespace for v5 ids (random once, never change it: every id of every release derives from it). */
export const ID_NAMESPACE = '8a3c1f52-6e0b-4d7a-9c41-2f5e7b90d3a6';

export function uuidV5(name: string, namespace: string = ID_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50; // version 5
  b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The id of a component, from its kind and its unique name (which already carries the publisher prefix). */
export const componentId = (kind: string, name: string): string => uuidV5(`${kind}:${name.toLowerCase()}`);

/** `{xxxxxxxx-…}` as customizations.xml writes ids. */
export const braced = (id: string): string => `{${id}}`;
