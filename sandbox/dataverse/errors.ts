/**
 * Dataverse's error shape: `{"error":{"code":"0x…","message":"…"}}` with the platform's hex codes.
 * Every failure inside the Web API is thrown as a DataverseError so the HTTP layer (and $batch, which
 * renders errors inside multipart parts) can answer with the same body.
 */
export class DataverseError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Codes seen in real responses (learn: web-service-error-codes, troubleshoot client errors). */
export const Codes = {
  /** ObjectDoesNotExist: "Entity 'contact' With Id = … Does Not Exist" (-2147220969). */
  NotFound: '0x80040217',
  /** DuplicateRecord: "A record with matching key values already exists." (-2147220937). */
  Duplicate: '0x80040237',
  /** DuplicateRecordEntityKey: alternate key collision. */
  DuplicateKey: '0x80060892',
  /** ConcurrencyVersionMismatch (If-Match etag differs). */
  Concurrency: '0x80060882',
  /** OData URI / query errors: unknown segment, property, unsupported query option. */
  OData: '0x80060888',
  /** "Error identified in Payload provided by the user for Entity" — bad JSON, wrong types. */
  Payload: '0x80048d19',
  /** InvalidArgument. */
  InvalidArgument: '0x80040203',
  /** Service protection: number of requests exceeded. */
  TooManyRequests: '0x80072322',
  /** Generic platform error (used for injected 500s). */
  Generic: '0x80040216',
  /** Attribute/metadata already exists. */
  MetadataDuplicate: '0x80044363',
  /** Change tracking not supported with the given options. */
  ChangeTracking: '0x80048d0a',
  /** Unauthorized (no or bad token). */
  Unauthorized: '0x80072560',
} as const;

export const notFound = (entity: string, id: string) =>
  new DataverseError(404, Codes.NotFound, `Entity '${entity}' With Id = ${id} Does Not Exist`);

export const badRequest = (code: string, message: string) => new DataverseError(400, code, message);

export const odataError = (message: string, status = 400) => new DataverseError(status, Codes.OData, message);

export const payloadError = (entitySet: string, inner: string) =>
  new DataverseError(
    400,
    Codes.Payload,
    `Error identified in Payload provided by the user for Entity :'${entitySet}', For more information on this error please follow this help link https://go.microsoft.com/fwlink/?linkid=2195293  ---->  InnerException : Microsoft.OData.ODataException: ${inner}`,
  );

/** Wraps anything thrown by our own code into a Dataverse 500 body instead of crashing. */
export function asDataverseError(err: unknown): DataverseError {
  if (err instanceof DataverseError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new DataverseError(500, Codes.Generic, `An unexpected error occurred: ${message}`);
}
