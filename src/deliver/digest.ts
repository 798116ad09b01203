/** The body digest receipts carry (PROTOCOL.md §4), computed the same way on both ends of a delivery. */
import { createHash } from 'node:crypto';

/** `sha-256=` + standard base64 (with padding) of the body's SHA-256. */
export function bodyDigest(body: Uint8Array): string {
  return `sha-256=${createHash('sha256').update(body).digest('base64')}`;
}
