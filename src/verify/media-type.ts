/**
 * The media-type check of a request body (PROTOCOL.md §3, step 6 of §2): the
 * Content-Type must name the format's type/subtype, may carry `charset=utf-8` and
 * nothing that contradicts it, and the body must not be content-coded.
 */

// RFC 9110 §5.6.2 token characters.
const token = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const mediaTypeHead = new RegExp(`^(${token})/(${token})`);
// One `; name=value` parameter, with optional whitespace (OWS) around the semicolon
// and a value that is a token or a quoted-string (RFC 9110 §5.6.4); RFC 9110 §5.6.6
// allows an empty parameter (`text/plain;`).
const parameter = new RegExp(`^[ \\t]*;[ \\t]*(?:(${token})=(${token}|"(?:[^"\\\\]|\\\\.)*"))?`);

/** PROTOCOL §3: type/subtype compared case-insensitively; a charset parameter, if any, must be utf-8 (case-insensitive, quotes allowed); any Content-Encoding other than identity fails. */
export function mediaTypeAccepted(contentType: string | undefined, contentEncoding: string | undefined, expected: string): boolean {
  if (!identityEncoding(contentEncoding)) return false;
  if (contentType === undefined) return false;
  const parsed = parseMediaType(contentType);
  if (parsed === undefined) return false;
  if (parsed.essence !== expected.trim().toLowerCase()) return false;
  const charsets = parsed.parameters.filter(([name]) => name === 'charset');
  // Two charset parameters could be read either way by different parsers: refuse.
  if (charsets.length > 1) return false;
  const charset = charsets[0];
  return charset === undefined || charset[1].toLowerCase() === 'utf-8';
}

/** Whether a Content-Encoding value means "not encoded" (absent, empty, or `identity`). */
function identityEncoding(value: string | undefined): boolean {
  if (value === undefined) return true;
  const v = value.trim().toLowerCase();
  return v === '' || v === 'identity';
}

interface MediaType {
  /** `type/subtype`, lower case. */
  essence: string;
  /** Parameters in order: lower-case name, unquoted value (case kept). */
  parameters: [string, string][];
}

/** Parses a Content-Type value per RFC 9110 §8.3.1; undefined if malformed. */
function parseMediaType(value: string): MediaType | undefined {
  let rest = value.trim();
  const head = mediaTypeHead.exec(rest);
  if (head === null) return undefined;
  const essence = `${head[1]!}/${head[2]!}`.toLowerCase();
  rest = rest.slice(head[0].length);
  const parameters: [string, string][] = [];
  while (rest.length > 0) {
    const match = parameter.exec(rest);
    if (match === null) return undefined;
    const [whole, name, raw] = match;
    if (name !== undefined && raw !== undefined) {
      const unquoted = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
      parameters.push([name.toLowerCase(), unquoted]);
    }
    rest = rest.slice(whole.length);
  }
  return { essence, parameters };
}
