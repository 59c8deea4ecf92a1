import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { WebhookPayloadError } from '../intake/hubspot-events.ts';
import { TenantInputError } from '../tenants/create.ts';

/**
 * Every error leaves as `{ "error": { "code", "message" } }` with a fitting 4xx/5xx — never a stack trace or
 * an HTML page. Messages of 4xx say what was wrong and how to fix it; a 5xx says only that it was our fault
 * and the request id to find it in the log.
 */

export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HttpError';
  }
}

export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

/** Request id (ours, or the caller's if it looks sane) for the response header and every log line. */
export const requestId: RequestHandler = (req, res, next) => {
  const given = req.get('x-request-id');
  const id = given && /^[\w.-]{1,100}$/.test(given) ? given : randomUUID();
  res.locals.requestId = id;
  res.setHeader('x-request-id', id);
  next();
};

export const notFound: RequestHandler = (req, res) => {
  sendError(res, 404, 'not_found', `No route for ${req.method} ${req.path}`);
};

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    if (err instanceof HttpError) {
      for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
      return sendError(res, err.status, err.code, err.message);
    }
    if (err instanceof WebhookPayloadError) return sendError(res, 400, 'invalid_payload', err.message);
    if (err instanceof TenantInputError) return sendError(res, 400, 'invalid_input', err.message);
    const bp = (err ?? {}) as BodyParserError;
    if (bp.type === 'entity.parse.failed') return sendError(res, 400, 'malformed_json', 'The request body is not valid JSON.');
    if (bp.type === 'entity.too.large') return sendError(res, 413, 'payload_too_large', `The request body is larger than the limit of ${bp.limit ?? 'the'} bytes.`);
    if (bp.type === 'encoding.unsupported' || bp.type === 'charset.unsupported') return sendError(res, 415, 'unsupported_encoding', 'The request body encoding is not supported.');
    if (typeof bp.status === 'number' && bp.status >= 400 && bp.status < 500) {
      // Other client errors raised by Express itself (e.g. a malformed URL escape).
      return sendError(res, bp.status, 'bad_request', (err as Error).message || 'Bad request.');
    }
    const id = String(res.locals.requestId ?? '');
    logger.error({ err, requestId: id, method: req.method, url: req.originalUrl }, 'request failed');
    sendError(res, 500, 'internal_error', `Internal error; the server log has the details under request id ${id}.`);
  };
}
