/**
 * Which partner URLs the gateway will talk to (PROTOCOL.md §1): HTTPS, or plain HTTP
 * on loopback only, so that a development partner can run on the same machine while
 * no key set or document ever crosses a network in the clear.
 */
import { isIP } from 'node:net';

/** True for `localhost`, 127.0.0.0/8 and ::1: addresses that never leave the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

/** Why a partner URL is refused, or undefined when it may be used. */
export function partnerUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a valid URL';
  }
  if (parsed.username !== '' || parsed.password !== '') return 'must not carry credentials';
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:') {
    return isLoopbackHost(parsed.hostname) ? undefined : 'plain http is accepted only on loopback (127.0.0.0/8, ::1, localhost); use https';
  }
  return `scheme ${parsed.protocol} is not accepted; use https`;
}
