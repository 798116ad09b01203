/** Verification of signed requests (PROTOCOL.md §2): import from here. */
export { createSignatureCheck, verifyHead, verifyRequest } from './verify-request.ts';
export type { HeadVerdict, ProtectedHeader, RequestHead, RequestVerdict, VerifyContext, VerifySlug } from './verify-request.ts';
export { mediaTypeAccepted } from './media-type.ts';
