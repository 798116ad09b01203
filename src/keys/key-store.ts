/**
 * What the gateway keeps about its own keys in DATA_DIR/keys: the generated key of a
 * single-process start, and when each key of SIGNING_KEYS_DIR was first published.
 * File times are not used for the latter, since a copy or a restore resets them and
 * would let a key sign before its notice period (PROTOCOL.md §1) has passed.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SigningKeyError } from './key-file.ts';

/** DATA_DIR/keys, created private to this user. */
export function keysDir(dataDir: string): string {
  const dir = join(dataDir, 'keys');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** DATA_DIR/keys/signing-key.pem, generated on first use and reused after. */
export function generatedKeyFile(dataDir: string): string {
  return privateKeyFileOnce(join(keysDir(dataDir), 'signing-key.pem'));
}

/**
 * A P-256 private key (PKCS#8 PEM, mode 0600) at `file`, generated if there is none.
 * Written beside and then hard-linked into place, which fails if the file exists: two
 * processes starting at once end up with the same key, never a half-written file.
 */
export function privateKeyFileOnce(file: string): string {
  if (existsSync(file)) return file;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(temporary, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  try {
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
  return file;
}

const PublishedFile = z.object({
  keys: z.record(z.string(), z.object({ thumbprint: z.string(), firstSeen: z.iso.datetime() })),
});
type PublishedFile = z.infer<typeof PublishedFile>;

/** A key as the publication record knows it. */
export interface PublishedKey {
  kid: string;
  thumbprint: string;
  /** Where the key was read from, for messages. */
  file: string;
}

/**
 * When each key was first published, by kid: read from DATA_DIR/keys/published.json,
 * with keys not seen before recorded as published `now`. Entries of keys that left the
 * folder are kept, so that a key put back does not start its notice again from zero.
 */
export function firstPublished(dataDir: string, keys: readonly PublishedKey[], now: Date): Map<string, Date> {
  const file = join(keysDir(dataDir), 'published.json');
  const record = readPublished(file);
  let changed = false;
  for (const key of keys) {
    const entry = record.keys[key.kid];
    if (entry === undefined) {
      record.keys[key.kid] = { thumbprint: key.thumbprint, firstSeen: now.toISOString() };
      changed = true;
    } else if (entry.thumbprint !== key.thumbprint) {
      // Key ids are unique per party (PROTOCOL.md §1): a kid reused for another key
      // would let verifiers holding the old key reject, or worse, confuse the two.
      throw new SigningKeyError(key.file, `kid "${key.kid}" was published before for another key (${file}); give this key a new kid`);
    }
  }
  if (changed) {
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(temporary, file);
  }
  return new Map(keys.map((key) => [key.kid, new Date(record.keys[key.kid]?.firstSeen ?? now)]));
}

/** The record, or an empty one; a damaged record stops the start rather than restart every notice period. */
function readPublished(file: string): PublishedFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { keys: {} };
    throw new SigningKeyError(file, (error as Error).message);
  }
  try {
    return PublishedFile.parse(JSON.parse(text));
  } catch (error) {
    throw new SigningKeyError(file, `unreadable record of published keys; repair it rather than delete it, or every key waits its notice period again (${(error as Error).message})`);
  }
}
