/**
 * A partner's key set fetched from its `jwksUri`, with jose's createRemoteJWKSet
 * semantics (cached, refetched on an unknown kid at most once per cooldown, refreshed
 * after a maximum age) but written here on global fetch, for three reasons:
 * createRemoteJWKSet resolves to a CryptoKey while the verifier needs the PublicJwk
 * itself (it imports it with node:crypto); it puts no cap on the response size; and it
 * throws on a failed fetch, where a verifier must only ever see "key not found" while
 * the last good set keeps being served.
 */
import { PublicJwk } from './partner.ts';
import { privateJwkMembers, publicJwkProblem } from './jwk-checks.ts';
import { partnerUrlProblem } from './partner-url.ts';

/** How a remote key set fetches and caches. */
export interface RemoteKeySetOptions {
  /** Minimum time between two fetches caused by unknown kids (default 30 s). */
  cooldownMs?: number;
  /** A set older than this is refetched before a kid is looked up in it (default 10 min, as jose). */
  maxAgeMs?: number;
  /** Whole fetch, body included (default 5 s). */
  timeoutMs?: number;
  /** Largest response body read (default 1 MiB); a key set is a few kilobytes. */
  maxBytes?: number;
  fetch?: typeof fetch;
  /** Milliseconds since the epoch; injected by tests. */
  now?: () => number;
  /** Told of every failed fetch, which otherwise only shows as "key not found". */
  onError?: (error: Error) => void;
}

/** The public keys at one partner's JWKS URL. */
export class RemoteKeySet {
  readonly url: string;
  readonly #cooldownMs: number;
  readonly #maxAgeMs: number;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #onError: ((error: Error) => void) | undefined;
  #keys: ReadonlyMap<string, PublicJwk> | undefined;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #loadedAt = Number.NEGATIVE_INFINITY;
  #pending: Promise<void> | undefined;

  /** Throws if the URL is not one the gateway may fetch (PROTOCOL.md §1). */
  constructor(url: string, options: RemoteKeySetOptions = {}) {
    const problem = partnerUrlProblem(url);
    if (problem !== undefined) throw new Error(`${url}: ${problem}`);
    this.url = url;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#maxAgeMs = options.maxAgeMs ?? 600_000;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#maxBytes = options.maxBytes ?? 1024 * 1024;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#now = options.now ?? (() => Date.now());
    this.#onError = options.onError;
  }

  /** The key with this kid, or undefined (also when the set cannot be fetched); never throws. */
  async key(kid: string): Promise<PublicJwk | undefined> {
    const now = this.#now();
    const cached = this.#keys?.get(kid);
    if (cached !== undefined && now - this.#loadedAt < this.#maxAgeMs) return cached;
    // A fetch in flight is joined rather than repeated; otherwise an unknown kid (or a
    // stale set) refetches only once the cooldown since the last attempt has passed, so
    // a caller inventing kids cannot make us hammer the partner.
    if (this.#pending !== undefined || now - this.#attemptedAt >= this.#cooldownMs) await this.#refresh();
    return this.#keys?.get(kid);
  }

  #refresh(): Promise<void> {
    this.#pending ??= (async () => {
      this.#attemptedAt = this.#now();
      try {
        this.#keys = await this.#download();
        this.#loadedAt = this.#now();
      } catch (error) {
        // The last good set stays in use: a partner's outage must not lock it out.
        // fetch says only "fetch failed"; its cause says why (refused, redirect, TLS).
        const cause = (error as { cause?: unknown }).cause;
        const reason = `${error instanceof Error ? error.message : String(error)}${cause instanceof Error ? ` (${cause.message})` : ''}`;
        try {
          this.#onError?.(new Error(`${this.url}: ${reason}`, { cause: error }));
        } catch {
          // A failing reporter must not turn "key not found" into an exception for the verifier.
        }
      } finally {
        this.#pending = undefined;
      }
    })();
    return this.#pending;
  }

  async #download(): Promise<Map<string, PublicJwk>> {
    const response = await this.#fetch(this.url, {
      signal: AbortSignal.timeout(this.#timeoutMs),
      // A redirect could lead anywhere, plain http included: the registered URL is the trust anchor.
      redirect: 'error',
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    const body = await readCapped(response, this.#maxBytes);
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new Error('not JSON');
    }
    const keys = (json as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) throw new Error('not a JWK set (no "keys" array)');
    return usableKeys(keys);
  }
}

/** The response body as text, refused once it passes `maxBytes`. */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new Error(`response of ${declared} bytes is over the ${maxBytes}-byte limit`);
  }
  if (response.body === null) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new Error(`response is over the ${maxBytes}-byte limit`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The keys of a fetched set that the registry would accept inline; the rest are
 * skipped, not fatal, so that one odd key does not take a partner's other keys down.
 * A kid that appears twice is ambiguous and is skipped too.
 */
function usableKeys(entries: unknown[]): Map<string, PublicJwk> {
  const keys = new Map<string, PublicJwk>();
  const ambiguous = new Set<string>();
  for (const entry of entries) {
    if (typeof entry !== 'object' || entry === null) continue;
    if (privateJwkMembers.some((member) => member in entry)) continue;
    // Published sets often carry x5c, key_ops and the like: keep only what we register.
    const picked = Object.fromEntries(
      ['kty', 'kid', 'alg', 'use', 'crv', 'x', 'y', 'n', 'e'].filter((m) => m in entry).map((m) => [m, (entry as Record<string, unknown>)[m]]),
    );
    const parsed = PublicJwk.safeParse(picked);
    if (!parsed.success || publicJwkProblem(parsed.data) !== undefined) continue;
    const jwk = Object.freeze(parsed.data);
    if (keys.has(jwk.kid)) ambiguous.add(jwk.kid);
    keys.set(jwk.kid, jwk);
  }
  for (const kid of ambiguous) keys.delete(kid);
  return keys;
}
