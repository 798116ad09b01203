/**
 * The partner registry as the running gateway sees it: loaded at start (a bad file stops
 * the start), re-read every minute and on SIGHUP (a bad file then keeps the last good
 * version), so that a partner's key rotation or suspension needs no restart.
 */
import { loadRegistry, RegistryInvalidError } from './load-registry.ts';
import type { Partner, PartnerDirectory, PublicJwk } from './partner.ts';
import { RemoteKeySet } from './remote-keys.ts';

/** Where the registry lives and how it refreshes. */
export interface RegistryOptions {
  dir: string;
  knownFormats: ReadonlySet<string>;
  /** Timer started by start() (default 60 s). */
  reloadIntervalMs?: number;
  /** Minimum time between refetches of a partner's jwksUri on unknown kids (default 30 s). */
  jwksCooldownMs?: number;
  /** A reload found a bad file; the last good version stays in use. */
  onReloadError?: (error: RegistryInvalidError) => void;
  /** A reload found the registry changed and took it; the partner ids now registered. */
  onReload?: (partners: string[]) => void;
  /** A partner's jwksUri could not be fetched (its last good key set stays in use). */
  onJwksError?: (partnerId: string, error: Error) => void;
  fetch?: typeof fetch;
  /** The clock the key sets' cooldowns and refreshes run by. */
  now?: () => number;
}

/** The partner directory the verifier, the API and the workers read. */
export class Registry implements PartnerDirectory {
  readonly #options: RegistryOptions;
  #partners: ReadonlyMap<string, Partner>;
  /** The registry as last taken, to tell a changed folder from the minutely re-read of an unchanged one. */
  #fingerprint: string;
  #remote = new Map<string, RemoteKeySet>();
  #timer: NodeJS.Timeout | undefined;

  /** Loads the registry; throws RegistryInvalidError on a bad file. */
  constructor(options: RegistryOptions) {
    this.#options = options;
    this.#partners = loadRegistry(options.dir, options.knownFormats);
    this.#fingerprint = fingerprint(this.#partners);
    this.#syncRemoteKeySets();
  }

  /** The partner with this registry id. */
  partner(id: string): Partner | undefined {
    return this.#partners.get(id);
  }

  /** Every registered partner, by id. */
  partners(): Partner[] {
    return [...this.#partners.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** The partner's key with this kid, from its registered set only; never throws. */
  async key(partnerId: string, kid: string): Promise<PublicJwk | undefined> {
    const partner = this.#partners.get(partnerId);
    if (partner === undefined) return undefined;
    const inline = partner.keys.jwks;
    if (inline !== undefined) return inline.keys.find((jwk) => jwk.kid === kid);
    return this.#remote.get(partnerId)?.key(kid);
  }

  /** Re-reads the folder; true if the new version was taken, false if a bad file kept the old one. */
  reload(): boolean {
    let partners: Map<string, Partner>;
    try {
      partners = loadRegistry(this.#options.dir, this.#options.knownFormats);
    } catch (error) {
      // Never thrown: reload runs from a timer and a signal handler, where a throw would
      // end the process that the last good registry keeps serving.
      const reported = error instanceof RegistryInvalidError ? error : new RegistryInvalidError(this.#options.dir, '(folder)', String((error as Error).message ?? error));
      this.#options.onReloadError?.(reported);
      return false;
    }
    const changed = fingerprint(partners) !== this.#fingerprint;
    this.#partners = partners;
    this.#fingerprint = fingerprint(partners);
    this.#syncRemoteKeySets();
    // Told only of changes: the timer re-reads an unchanged folder every minute.
    if (changed) this.#options.onReload?.([...partners.keys()].sort());
    return true;
  }

  /** Re-reads the registry every reloadIntervalMs; the timer does not keep the process alive. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.reload(), this.#options.reloadIntervalMs ?? 60_000);
    this.#timer.unref();
  }

  /** Stops the reload timer. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One remote key set per jwksUri partner, kept across reloads while its URL stays, so its cache does. */
  #syncRemoteKeySets(): void {
    const next = new Map<string, RemoteKeySet>();
    for (const partner of this.#partners.values()) {
      const url = partner.keys.jwksUri;
      if (url === undefined) continue;
      const current = this.#remote.get(partner.id);
      next.set(partner.id, current?.url === url ? current : this.#remoteKeySet(partner.id, url));
    }
    this.#remote = next;
  }

  #remoteKeySet(partnerId: string, url: string): RemoteKeySet {
    const { jwksCooldownMs, fetch, onJwksError, now } = this.#options;
    return new RemoteKeySet(url, {
      ...(now === undefined ? {} : { now }),
      ...(jwksCooldownMs === undefined ? {} : { cooldownMs: jwksCooldownMs }),
      ...(fetch === undefined ? {} : { fetch }),
      ...(onJwksError === undefined ? {} : { onError: (error: Error) => onJwksError(partnerId, error) }),
    });
  }
}

function fingerprint(partners: ReadonlyMap<string, Partner>): string {
  return JSON.stringify([...partners.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
