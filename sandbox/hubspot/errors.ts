import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, Request, Response } from 'express';

/**
 * HubSpot's error body (spec `Error`): every failure the sandbox produces goes through here, so clients
 * that parse `category`/`message` (e.g. the "Existing ID: N" of a duplicate contact) see the real shape.
 */
export interface HubSpotErrorBody {
  status: 'error';
  message: string;
  correlationId: string;
  category: string;
  subCategory?: string;
  context?: Record<string, string[]>;
  errors?: Array<{ message: string; code?: string; in?: string; context?: Record<string, string[]>; subCategory?: string }>;
  [extra: string]: unknown;
}

export class HubSpotError extends Error {
  constructor(
    readonly status: number,
    readonly category: string,
    message: string,
    readonly extra: Partial<HubSpotErrorBody> = {},
  ) {
    super(message);
  }

  body(): HubSpotErrorBody {
    return { status: 'error', message: this.message, correlationId: randomUUID(), category: this.category, ...this.extra };
  }
}

export const validationError = (message: string, extra: Partial<HubSpotErrorBody> = {}) =>
  new HubSpotError(400, 'VALIDATION_ERROR', message, extra);

export const notFound = (message = 'resource not found') => new HubSpotError(404, 'OBJECT_NOT_FOUND', message);

export function sendError(res: Response, err: HubSpotError): void {
  res.status(err.status).json(err.body());
}

/** One invalid property value, in the shape HubSpot embeds (JSON-encoded) in its VALIDATION_ERROR message. */
export interface PropertyValueError {
  isValid: false;
  message: string;
  error: string;
  name: string;
  localizedErrorMessage: string;
}

export function propertyValueError(name: string, error: string, message: string): PropertyValueError {
  return { isValid: false, message, error, name, localizedErrorMessage: message };
}

/** `Property values were not valid: [...]` — HubSpot's wording for bad writes (unknown property, bad option, bad number). */
export function invalidPropertyValues(errors: PropertyValueError[]): HubSpotError {
  return validationError(`Property values were not valid: ${JSON.stringify(errors)}`);
}

/** Unknown routes answer like HubSpot's gateway does, in its JSON shape rather than Express's HTML. */
export function unknownRoute(req: Request, res: Response): void {
  sendError(res, new HubSpotError(404, 'OBJECT_NOT_FOUND', `Unable to route ${req.method} ${req.path}: resource not found`));
}

/**
 * Last line of defence: body-parser failures become HubSpot 400s, HubSpotErrors keep their status, and anything
 * else is logged and answered as HubSpot's generic 500 rather than crashing or leaking a stack trace.
 */
export function errorMiddleware(log: (err: unknown) => void = () => {}): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    if (err instanceof HubSpotError) return sendError(res, err);
    const e = err as { type?: string; status?: number; message?: string };
    if (e?.type === 'entity.parse.failed') {
      return sendError(res, validationError(`Invalid input JSON on line 1: ${e.message ?? 'malformed JSON'}`));
    }
    if (e?.type === 'entity.too.large') {
      return sendError(res, new HubSpotError(413, 'VALIDATION_ERROR', 'Request entity too large'));
    }
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      return sendError(res, validationError(e.message ?? 'Bad request'));
    }
    log(err);
    sendError(res, new HubSpotError(500, 'INTERNAL_ERROR', 'internal error'));
  };
}
