import type { WebhookEndpoint } from '../contracts.ts';

/** serviceendpoint.authtype values a webhook (contract 8) can use. */
export const AuthType = { WebhookKey: 4, HttpHeader: 5, HttpQueryString: 6 } as const;

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi, (_m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return XML_ENTITIES[e.toLowerCase()] ?? _m;
  });
}

/**
 * Reads `<settings><setting name="x" value="y"/></settings>`, the authvalue format of the HttpHeader and
 * HttpQueryString auth types. Attribute order and quote style vary between tools, so each attribute is found on its own.
 */
export function parseSettings(authValue: string | null): Array<[string, string]> {
  if (!authValue) return [];
  const result: Array<[string, string]> = [];
  for (const match of authValue.matchAll(/<setting\b([^>]*?)\/?>/gi)) {
    const attrs = match[1] ?? '';
    const name = /\bname\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(attrs);
    const value = /\bvalue\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(attrs);
    if (!name) continue;
    result.push([decodeXml(name[1] ?? name[2] ?? ''), decodeXml(value ? (value[1] ?? value[2] ?? '') : '')]);
  }
  return result;
}

/** Where and with which extra headers Dataverse posts for an endpoint, per its auth type. */
export function authenticatedTarget(endpoint: WebhookEndpoint): { url: string; headers: Record<string, string> } {
  const url = new URL(endpoint.url);
  const headers: Record<string, string> = {};
  switch (endpoint.authType) {
    case AuthType.WebhookKey:
      if (endpoint.authValue) url.searchParams.append('code', endpoint.authValue);
      break;
    case AuthType.HttpHeader:
      for (const [name, value] of parseSettings(endpoint.authValue)) headers[name] = value;
      break;
    case AuthType.HttpQueryString:
      for (const [name, value] of parseSettings(endpoint.authValue)) url.searchParams.append(name, value);
      break;
  }
  return { url: url.toString(), headers };
}
