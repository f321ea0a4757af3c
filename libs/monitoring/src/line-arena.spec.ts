import { ArenaChunk, LineArena } from './line-arena';

describe('LineArena', () => {
  it('hands out what was written since the last take, and never writes over a chunk not released', () => {
    const arena = new LineArena(64);
    const taken: ArenaChunk[] = [];
    const texts: string[] = [];
    for (let i = 0; i < 40; i++) {
      const text = `line ${i} ${'é'.repeat(i % 5)}\n`;
      texts.push(text);
      arena.write(text, () => {
        const chunk = arena.take();
        if (chunk) taken.push(chunk);
      });
    }
    taken.push(arena.take()!);
    expect(arena.take()).toBeUndefined();
    expect(taken.map((chunk) => chunk.bytes.toString('utf8')).join('')).toBe(texts.join(''));
  });

  it('reuses a slab once every chunk in it is released, and only then', () => {
    const arena = new LineArena(32);
    const full = () => {
      throw new Error('unexpected: the slab was full');
    };
    arena.write('0123456789', full);
    const first = arena.take()!;
    // The next write might not fit (room is reckoned at 3 bytes a character): a second slab, since `first`
    // still points into the first.
    let closed = 0;
    arena.write('abcdefghij', () => closed++);
    const second = arena.take()!;
    expect(closed).toBe(1);
    expect(second.slab).not.toBe(first.slab);
    expect(first.bytes.toString()).toBe('0123456789');

    arena.release([first]);
    arena.write('ABCDEFGHIJ', () => closed++);
    const third = arena.take()!;
    expect(third.slab).toBe(first.slab);
    expect(third.bytes.toString()).toBe('ABCDEFGHIJ');
    expect(second.bytes.toString()).toBe('abcdefghij');
  });

  it('takes text larger than a slab whole', () => {
    const arena = new LineArena(8);
    const long = 'x'.repeat(100);
    expect(arena.write(long, () => undefined)).toBe(100);
    expect(arena.take()!.bytes.toString()).toBe(long);
  });
});
