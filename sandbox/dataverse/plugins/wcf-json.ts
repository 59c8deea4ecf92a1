/**
 * Dataverse serialises RemoteExecutionContext with .NET's DataContractJsonSerializer. What makes that JSON
 * different from plain JSON: `__type` hints naming the contract class, dates as `/Date(ms)/`, and every `/`
 * escaped as `\/`. Receivers (the product, Azure Functions samples, deserialiser libraries) rely on these.
 */

const CONTRACTS = 'http://schemas.microsoft.com/xrm/2011/Contracts';

export const contractType = (name: 'Entity' | 'EntityReference' | 'OptionSetValue' | 'Money'): string => `${name}:${CONTRACTS}`;

/** `/Date(1506384247000)/`: UTC milliseconds. The surrounding slashes become `\/` when the body is written. */
export function wcfDate(value: Date | string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : value.getTime();
  if (!Number.isFinite(ms)) throw new Error(`wcfDate: not a date: ${String(value)}`);
  return `/Date(${ms})/`;
}

/**
 * Writes the body text. `/` can only occur inside JSON strings, so escaping every one of them is exactly
 * what DataContractJsonSerializer does (`"Entity:http:\/\/schemas…"`, `"\/Date(…)\/"`).
 */
export function toWcfJson(value: unknown): string {
  return JSON.stringify(value).replace(/\//g, '\\/');
}

export interface KeyValue<V = unknown> {
  key: string;
  value: V;
}

/** DataContract dictionaries are arrays of `{key, value}` pairs, in insertion order. */
export const pairs = <V>(entries: Iterable<[string, V]>): KeyValue<V>[] => [...entries].map(([key, value]) => ({ key, value }));
