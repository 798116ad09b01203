/**
 * Reading a partner's HTTP answer defensively: the body up to a byte cap (a partner, or
 * whatever answers at its URL, must not make the gateway buffer without bound), and
 * Retry-After in both of its RFC 9110 forms.
 */

/** The body, or `undefined` when it is larger than `maxBytes` (the rest is not read). */
export async function readCapped(response: Response, maxBytes: number): Promise<Buffer | undefined> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await discard(response);
    return undefined;
  }
  if (response.body === null) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** Lets go of a body we do not read, so the connection is freed. */
export async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}

/** Retry-After (RFC 9110 §10.2.3) as whole seconds from `nowMs`: delay-seconds or an HTTP-date; undefined if absent or unreadable. */
export function retryAfterSeconds(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text);
  // An HTTP-date ends in GMT (IMF-fixdate, RFC 850); without a zone Date.parse would guess local time.
  if (!/^[A-Za-z]{3,9}, .{8,30} GMT$/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}
