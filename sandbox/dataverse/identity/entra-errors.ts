import { randomUUID } from 'node:crypto';

/** The JSON body Entra ID's token endpoint returns on failure (same field names and formatting). */
export interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

export interface EntraError {
  status: number;
  body: EntraErrorBody;
}

/** Entra writes timestamps as `2024-05-01 10:11:12Z`. */
function entraTimestamp(now: Date): string {
  return now.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Builds an error like Entra's: the AADSTS code leads the description, and the description ends with the
 * trace/correlation ids and timestamp (msal copies this text into the error message it throws).
 */
export function entraError(status: number, error: string, code: number, message: string, correlationId?: string): EntraError {
  const now = new Date();
  const traceId = randomUUID();
  const correlation = correlationId && /^[0-9a-f-]{36}$/i.test(correlationId) ? correlationId : randomUUID();
  const timestamp = entraTimestamp(now);
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlation}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlation,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}

/** The errors the sandbox reproduces, by the situation that causes them. */
export const entraErrors = {
  tenantNotFound: (tenant: string, c?: string) =>
    entraError(400, 'invalid_request', 90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`, c),
  missingParameter: (name: string, c?: string) =>
    entraError(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`, c),
  unsupportedGrant: (grant: string, c?: string) =>
    entraError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grant}'.`, c),
  unknownClient: (clientId: string, tenant: string, c?: string) =>
    entraError(400, 'unauthorized_client', 700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`, c),
  missingSecret: (c?: string) =>
    entraError(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", c),
  invalidSecret: (clientId: string, c?: string) =>
    entraError(401, 'invalid_client', 7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`, c),
  scopeNotDefault: (scope: string, c?: string) =>
    entraError(400, 'invalid_scope', 1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`, c),
  resourceNotFound: (resource: string, tenant: string, c?: string) =>
    entraError(400, 'invalid_resource', 500011,
      `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`, c),
};
