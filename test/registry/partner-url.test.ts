import { describe, expect, it } from 'vitest';
import { isLoopbackHost, partnerUrlProblem } from '../../src/registry/partner-url.ts';

describe('partner URLs', () => {
  it.each(['https://customs.partner.example/inbox', 'http://127.0.0.1:8080/x', 'http://127.9.8.7/x', 'http://[::1]:9000/x', 'http://localhost/x', 'http://LOCALHOST:1/x'])(
    'accepts %s',
    (url) => expect(partnerUrlProblem(url)).toBeUndefined(),
  );

  it.each([
    ['http://customs.partner.example/inbox', /only on loopback/],
    ['http://128.0.0.1/x', /only on loopback/],
    ['http://127.0.0.1.evil.example/x', /only on loopback/],
    ['http://localhost.evil.example/x', /only on loopback/],
    ['http://[::2]/x', /only on loopback/],
    ['ftp://customs.partner.example/x', /use https/],
    ['https://user:secret@customs.partner.example/x', /credentials/],
    ['not a url', /not a valid URL/],
  ])('refuses %s', (url, reason) => expect(partnerUrlProblem(url)).toMatch(reason));

  it('knows loopback hosts as URL.hostname writes them', () => {
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('10.0.0.1')).toBe(false);
  });
});
