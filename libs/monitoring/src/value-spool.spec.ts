import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValueSpool } from './value-spool';

describe('ValueSpool', () => {
  it('gives back every value in order, across chunks, as often as asked, then removes its file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'spool-')), 'values.f64');
    const spool = await ValueSpool.create(path);
    const count = 150_000; // two full chunks and a part
    for (let i = 0; i < count; i++) await spool.add(i === 7 ? -0.1 : i * 1.5);
    expect(spool.count).toBe(count);
    for (let pass = 0; pass < 2; pass++) {
      let seen = 0;
      let sum = 0;
      for await (const chunk of spool.chunks()) {
        expect(chunk[chunk.length - 1]).toBe((seen + chunk.length - 1) * 1.5);
        seen += chunk.length;
        for (const value of chunk) sum += value;
      }
      expect(seen).toBe(count);
      expect(sum).toBeCloseTo(1.5 * ((count * (count - 1)) / 2 - 7) - 0.1, 3);
    }
    expect(statSync(path).size).toBe(count * 8);
    await spool.remove();
    expect(existsSync(path)).toBe(false);
  });
});
