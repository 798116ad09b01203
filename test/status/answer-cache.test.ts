import { describe, expect, it } from 'vitest';
import { StatusAnswerCache } from '../../src/status/answer-cache.ts';

const hit = { status: 200 as const, contentType: 'application/json; charset=utf-8', bytes: Buffer.from(JSON.stringify({ subject: { sub: 'eu-aeo:X' }, assertion: 'a.b.c' })) };
const miss = { status: 404 as const, contentType: 'application/problem+json; charset=utf-8', bytes: Buffer.from('{"type":"urn:mra:problem:not-found"}') };

describe('the status answer cache', () => {
  it('keeps nothing until changes can be heard, then keeps hits and misses alike', () => {
    const cache = new StatusAnswerCache();
    cache.set('k', cache.generation, hit);
    expect(cache.get('k')).toBeUndefined();
    cache.hearing();
    cache.set('k', cache.generation, hit);
    cache.set('miss', cache.generation, miss);
    expect(cache.get('k')).toEqual(hit);
    expect(cache.get('miss')).toEqual(miss);
  });

  it('a change makes every entry stale, and an answer read while it committed is not kept', () => {
    const cache = new StatusAnswerCache();
    cache.hearing();
    cache.set('k', cache.generation, hit);
    const started = cache.generation;
    cache.changed();
    expect(cache.get('k')).toBeUndefined();
    // A look-up that began before the change read what may be the old state.
    cache.set('k', started, hit);
    expect(cache.get('k')).toBeUndefined();
    cache.set('k', cache.generation, hit);
    expect(cache.get('k')).toEqual(hit);
  });

  it('going deaf drops everything and keeps nothing until heard again', () => {
    const cache = new StatusAnswerCache();
    cache.hearing();
    cache.set('k', cache.generation, hit);
    cache.deaf();
    expect(cache.get('k')).toBeUndefined();
    cache.set('k', cache.generation, hit);
    expect(cache.get('k')).toBeUndefined();
  });

  it('an entry ages out, so that the assertion it holds stays fresh', () => {
    let now = 0;
    const cache = new StatusAnswerCache({ maxAgeSeconds: 60, now: () => now });
    cache.hearing();
    cache.set('k', cache.generation, hit);
    now = 59_999;
    expect(cache.get('k')).toEqual(hit);
    now = 60_000;
    expect(cache.get('k')).toBeUndefined();
  });

  it('holds at most maxEntries, dropping the oldest', () => {
    const cache = new StatusAnswerCache({ maxEntries: 2 });
    cache.hearing();
    for (const key of ['a', 'b', 'c']) cache.set(key, cache.generation, hit);
    expect([cache.get('a'), cache.get('b'), cache.get('c')].map((e) => e !== undefined)).toEqual([false, true, true]);
  });

  it('when full, drops the entry least recently asked for, not the oldest', () => {
    const cache = new StatusAnswerCache({ maxEntries: 2 });
    cache.hearing();
    cache.set('hot', cache.generation, hit);
    cache.set('a', cache.generation, miss);
    expect(cache.get('hot')).toEqual(hit);
    cache.set('b', cache.generation, miss);
    expect([cache.get('hot'), cache.get('a'), cache.get('b')].map((e) => e !== undefined)).toEqual([true, false, true]);
  });
});
