import { describe, expect, it } from 'vitest';
import { KeptJson } from '../../src/jobs/kept-json.ts';

describe('kept JSON', () => {
  it('gives back every text as its UTF-8 bytes, across chunks, for texts of every size and script', () => {
    const kept = new KeptJson();
    // Enough to fill several megabyte chunks, one text larger than a chunk, and non-ASCII text whose bytes outnumber its code units.
    const texts = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ key: `K${i}`, name: i % 7 === 0 ? `株式会社 ${'東京'.repeat(i % 50)} 🚚` : 'x'.repeat(i % 900) }));
    texts.splice(2500, 0, JSON.stringify({ big: 'é'.repeat(1_500_000) }));
    const numbers = texts.map((t) => kept.add(t));
    expect(numbers).toEqual(texts.map((_, i) => i));
    for (const [i, t] of texts.entries()) expect(kept.bytes(numbers[i]!).equals(Buffer.from(t))).toBe(true);
  });
});
