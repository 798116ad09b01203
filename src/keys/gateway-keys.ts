/**
 * The gateway's own signing keys (PROTOCOL.md §4, RUNNING.md): one key file, a folder
 * of keys rotated by notice period, or a key generated once into DATA_DIR. Every loaded
 * key is published at once; in a folder, a key signs only after it has been published
 * for SIGNING_KEY_MIN_AGE_DAYS, so that verifiers have fetched it before they meet it.
 */
import { sign, type KeyObject } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { PublicJwk } from '../registry/partner.ts';
import { pssOptions } from '../verify/signature.ts';
import { readSigningKey, SigningKeyError, type GatewayAlgorithm, type SigningKeyMaterial } from './key-file.ts';
import { firstPublished, generatedKeyFile } from './key-store.ts';

export { verifyGatewaySigned, type SignedObjectErrorCode } from './verify-signed.ts';
export { SigningKeyError } from './key-file.ts';

/** One of the gateway's signing keys. */
export interface GatewayKey {
  kid: string;
  alg: GatewayAlgorithm;
  privateKey: KeyObject;
  /** With kid, alg and `use: 'sig'`. */
  publicJwk: PublicJwk;
  /** When it may start signing. */
  notBefore: Date;
}

/** Where the keys come from (RUNNING.md settings). */
export interface GatewayKeysOptions {
  signingKeyFile?: string;
  signingKeysDir?: string;
  dataDir: string;
  minAgeDays: number;
  now?: () => Date;
}

const dayMs = 86_400_000;
const keyFileExtensions = new Set(['.pem', '.jwk', '.json']);

/** The gateway's keys: which one signs now, and which to publish. */
export class GatewayKeys {
  /** Oldest first; in a folder, ordered by when each was first published. */
  readonly #keys: readonly GatewayKey[];
  /** Set for a folder of keys: the signing key then follows the clock. */
  readonly #rotation: { dir: string; minAgeDays: number } | undefined;
  readonly #now: () => Date;

  private constructor(keys: readonly GatewayKey[], rotation: { dir: string; minAgeDays: number } | undefined, now: () => Date) {
    this.#keys = keys;
    this.#rotation = rotation;
    this.#now = now;
  }

  /** Loads the keys per the options; throws SigningKeyError naming the file of a bad key. */
  static async load(options: GatewayKeysOptions): Promise<GatewayKeys> {
    const now = options.now ?? (() => new Date());
    const { signingKeyFile, signingKeysDir, minAgeDays } = options;
    if (!Number.isFinite(minAgeDays) || minAgeDays < 0) throw new Error(`SIGNING_KEY_MIN_AGE_DAYS must be a number of days, 0 or more (got ${minAgeDays})`);
    if (signingKeyFile && signingKeysDir) throw new Error('SIGNING_KEY_FILE and SIGNING_KEYS_DIR are alternatives: set one of them');
    if (signingKeysDir) return GatewayKeys.#fromFolder(signingKeysDir, options.dataDir, minAgeDays, now);
    // One designated key (or the generated one) is the current key at once: there is
    // no other key it could wait behind.
    const file = signingKeyFile || generatedKeyFile(options.dataDir);
    const key = await readSigningKey(file);
    return new GatewayKeys([gatewayKey(key, now())], undefined, now);
  }

  static async #fromFolder(dir: string, dataDir: string, minAgeDays: number, now: () => Date): Promise<GatewayKeys> {
    let names: string[];
    try {
      // Hidden files are editors' and copy tools' leftovers, never keys.
      names = readdirSync(dir).filter((name) => keyFileExtensions.has(extname(name)) && !name.startsWith('.')).sort();
    } catch (error) {
      throw new SigningKeyError(dir, (error as Error).message);
    }
    if (names.length === 0) throw new SigningKeyError(dir, 'no private key (*.pem, *.jwk, *.json) in SIGNING_KEYS_DIR');
    const loaded: (SigningKeyMaterial & { file: string })[] = [];
    for (const name of names) {
      const file = join(dir, name);
      const key = await readSigningKey(file);
      const twin = loaded.find((other) => other.kid === key.kid);
      if (twin !== undefined) throw new SigningKeyError(file, `kid "${key.kid}" is also the kid of ${twin.file}: key ids are unique`);
      loaded.push({ ...key, file });
    }
    const published = firstPublished(dataDir, loaded, now());
    const keys = loaded
      .map((key) => ({ key, since: published.get(key.kid) ?? now() }))
      .sort((a, b) => a.since.getTime() - b.since.getTime())
      .map(({ key, since }) => gatewayKey(key, new Date(since.getTime() + minAgeDays * dayMs)));
    return new GatewayKeys(keys, { dir, minAgeDays }, now);
  }

  /** The key that signs now: in a folder, the newest published for the notice period; throws if none is yet. */
  current(): GatewayKey {
    const [first] = this.#keys;
    if (first === undefined) throw new Error('no signing key loaded');
    if (this.#rotation === undefined) return first;
    const now = this.#now().getTime();
    const ready = this.#keys.filter((key) => key.notBefore.getTime() <= now);
    const newest = ready[ready.length - 1];
    if (newest === undefined) {
      const { dir, minAgeDays } = this.#rotation;
      throw new Error(
        `no key in ${dir} may sign yet: a key signs once it has been published for ${minAgeDays} days (SIGNING_KEY_MIN_AGE_DAYS); the first may sign from ${first.notBefore.toISOString()}`,
      );
    }
    return newest;
  }

  /** Every public key to publish: all keys loaded now, plus `retained` (keys that signed objects still kept). */
  jwks(retained: readonly PublicJwk[] = []): { keys: PublicJwk[] } {
    const keys: PublicJwk[] = [];
    const seen = new Set<string>();
    for (const jwk of [...this.#keys.map((key) => key.publicJwk), ...retained]) {
      if (seen.has(jwk.kid)) continue;
      seen.add(jwk.kid);
      keys.push(jwk);
    }
    return { keys };
  }

  /**
   * Signs a compact JWS with the current key: protected header { alg, kid, typ }, a JSON
   * payload. On node:crypto at once, as the request signer does (src/sign): jose signs
   * through WebCrypto, a hop to the thread pool and back for each receipt, while the
   * acceptance holds its partner's lock (issue 10).
   */
  async sign(typ: string, payload: Record<string, unknown>): Promise<string> {
    if (typ === '') throw new Error('a gateway-signed object needs a typ');
    const key = this.current();
    const signingInput = `${base64url(JSON.stringify({ alg: key.alg, kid: key.kid, typ }))}.${base64url(JSON.stringify(payload))}`;
    const data = Buffer.from(signingInput, 'ascii');
    const signature =
      key.alg === 'EdDSA' ? sign(null, data, key.privateKey)
      : key.alg === 'PS256' ? sign('sha256', data, { key: key.privateKey, ...pssOptions })
      : sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${signature.toString('base64url')}`;
  }
}

const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

function gatewayKey(key: SigningKeyMaterial, notBefore: Date): GatewayKey {
  return { kid: key.kid, alg: key.alg, privateKey: key.privateKey, publicJwk: key.publicJwk, notBefore };
}
