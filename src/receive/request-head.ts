/** What PROTOCOL §2 verifies of a request, read as the signer saw it; for every route that takes a JWS-Signature. */
import type { Request } from 'express';
import type { RequestHead } from '../verify/index.ts';

/** The request-target as the signer saw it: path and query as on the request line, base path removed. */
export function requestTarget(req: Request, basePath: string): string {
  const target = req.originalUrl;
  return basePath !== '' && target.startsWith(basePath) ? target.slice(basePath.length) : target;
}

/** The signature header, method, target and body headers of a request. */
export function requestHead(req: Request, basePath: string, hasBody: boolean): RequestHead {
  return {
    signature: req.get('JWS-Signature'),
    method: req.method,
    target: requestTarget(req, basePath),
    contentType: req.get('Content-Type'),
    contentEncoding: req.get('Content-Encoding'),
    hasBody,
  };
}
