import { ArenaChunk, LineArena } from './line-arena';

/** `count` lines of 10 characters in an arena of 32-byte slabs: room for 30 bytes each, so a slab each. */
function linesInSlabsOfTheirOwn(arena: LineArena, count: number): ArenaChunk[] {
  const chunks: ArenaChunk[] = [];
  for (let i = 0; i < count; i++) {
    arena.write(String(i).repeat(10), () => undefined);
    chunks.push(arena.take()!);
  }
  return chunks;
}

/** How many of ten more slab-sized lines land in one of the chunks' slabs. */
function reusedOf(arena: LineArena, chunks: readonly ArenaChunk[]): number {
  const old = new Set(chunks.map((chunk) => chunk.slab));
  let reused = 0;
  for (let i = 0; i < 10; i++) {
    arena.write('x'.repeat(10), () => undefined);
    if (old.has(arena.take()!.slab)) reused++;
  }
  return reused;
}

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

describe('LineArena slabs', () => {
  const never = () => {
    throw new Error('unexpected: the slab was full');
  };
  /** Where in its slab a chunk starts. */
  const offsetOf = (chunk: ArenaChunk) => chunk.bytes.byteOffset - chunk.slab.buffer.byteOffset;

  it('writes into the current slab while it has room for 3 bytes a character, up to its last byte', () => {
    const arena = new LineArena(30);
    // 10 characters need room for 30 bytes: exactly the slab.
    expect(arena.write('0123456789', never)).toBe(10);
    const chunk = arena.take()!;
    expect(chunk.bytes.toString()).toBe('0123456789');
    expect(offsetOf(chunk)).toBe(0);
  });

  it('starts its own slab over once nothing points into it, and never while something does', () => {
    const arena = new LineArena(32);
    arena.write('a'.repeat(10), never);
    const first = arena.take()!;
    arena.release([first]);
    let full = 0;
    arena.write('b'.repeat(10), () => full++);
    const second = arena.take()!;
    expect(full).toBe(1);
    expect(second.slab).toBe(first.slab);
    expect(offsetOf(second)).toBe(0);
    // `second` still points into the slab: the next line goes elsewhere and leaves its bytes alone.
    arena.write('c'.repeat(10), () => full++);
    const third = arena.take()!;
    expect(third.slab).not.toBe(second.slab);
    expect(second.bytes.toString()).toBe('b'.repeat(10));
    expect(third.bytes.toString()).toBe('c'.repeat(10));
  });

  it('reuses a slab grown for a long line for the next long line, once released', () => {
    const arena = new LineArena(8);
    const long = 'x'.repeat(100);
    arena.write(long, () => undefined);
    const first = arena.take()!;
    expect(first.slab.buffer.length).toBe(300);
    arena.release([first]);
    // Not room enough for another such line (300 bytes at 3 a character) after the first: the slab starts over.
    let full = 0;
    expect(arena.write('z'.repeat(100), () => full++)).toBe(100);
    expect(full).toBe(1);
    const second = arena.take()!;
    expect(second.slab).toBe(first.slab);
    expect(second.bytes.toString()).toBe('z'.repeat(100));
  });

  it('keeps a released slab too small for a long line for later short ones, and never writes a long line into it', () => {
    const arena = new LineArena(32);
    arena.write('a'.repeat(10), never);
    const small = arena.take()!;
    arena.release([small]);
    // Nothing points into the small slab, but the line does not fit it: it is kept aside. (3 bytes a character:
    // the line fills the slab made for it.)
    expect(arena.write('€'.repeat(100), () => undefined)).toBe(300);
    const long = arena.take()!;
    expect(long.slab).not.toBe(small.slab);
    expect(long.bytes.toString()).toBe('€'.repeat(100));
    // `long` is not released: a short line goes to the small slab kept aside.
    arena.write('b'.repeat(10), () => undefined);
    const short = arena.take()!;
    expect(short.slab).toBe(small.slab);
    // A released spare slab is not taken for a line longer than a slab.
    arena.write('c'.repeat(10), () => undefined);
    const another = arena.take()!;
    arena.release([short]);
    expect(arena.write('y'.repeat(100), () => undefined)).toBe(100);
    const longer = arena.take()!;
    expect(longer.slab).not.toBe(short.slab);
    expect(longer.bytes.toString()).toBe('y'.repeat(100));
    expect(another.bytes.toString()).toBe('c'.repeat(10));
  });

  it('keeps at most 8 released slabs for reuse', () => {
    const arena = new LineArena(32);
    const chunks = linesInSlabsOfTheirOwn(arena, 10);
    expect(new Set(chunks.map((chunk) => chunk.slab)).size).toBe(10);
    // All but the current one released: eight are kept.
    arena.release(chunks.slice(0, 9));
    expect(reusedOf(arena, chunks)).toBe(8);
  });

  it('counts every chunk pointing into a slab: one still held keeps it from reuse', () => {
    const arena = new LineArena(48);
    arena.write('a'.repeat(10), never);
    const first = arena.take()!;
    arena.write('b'.repeat(10), never);
    const second = arena.take()!;
    expect(second.slab).toBe(first.slab);
    arena.write('c'.repeat(10), () => undefined);
    const third = arena.take()!;
    expect(third.slab).not.toBe(first.slab);
    // One of the two chunks of the first slab released: it is not reused (13 characters do not fit the 18 bytes
    // left of the third's slab).
    arena.release([first]);
    arena.write('d'.repeat(13), () => undefined);
    const fourth = arena.take()!;
    expect(fourth.slab).not.toBe(first.slab);
    expect(second.bytes.toString()).toBe('b'.repeat(10));
  });

  it('never sets aside a slab a chunk still points into when a long line needs a slab of its own', () => {
    const arena = new LineArena(32);
    arena.write('a'.repeat(10), never);
    const held = arena.take()!;
    // A line longer than a slab gets a slab of its own (3 bytes a character: it fills it).
    arena.write('€'.repeat(100), () => undefined);
    const long = arena.take()!;
    // The next line needs another slab: a new one, not the one `held` points into.
    arena.write('b'.repeat(10), () => undefined);
    const next = arena.take()!;
    expect(next.slab).not.toBe(held.slab);
    expect(held.bytes.toString()).toBe('a'.repeat(10));
    expect(long.bytes.toString()).toBe('€'.repeat(100));
  });

  it('takes a spare slab for a line needing exactly a slab’s room', () => {
    const arena = new LineArena(30);
    arena.write('a'.repeat(10), never);
    const first = arena.take()!;
    arena.write('b'.repeat(10), () => undefined);
    const second = arena.take()!;
    arena.release([first]);
    // 10 characters: room for 30 bytes, the size of a slab.
    arena.write('c'.repeat(10), () => undefined);
    const third = arena.take()!;
    expect(third.slab).toBe(first.slab);
    expect(second.bytes.toString()).toBe('b'.repeat(10));
  });

  it('keeps at most 8 slabs aside, also when the current one is set aside for a long line', () => {
    const arena = new LineArena(32);
    // Nine lines in nine slabs; the eight before the current one released: eight spare slabs.
    const chunks = linesInSlabsOfTheirOwn(arena, 9);
    arena.release(chunks);
    // The current slab, free now, is not taken for a line longer than a slab: with eight aside, it is let go.
    arena.write('€'.repeat(100), () => undefined);
    const long = arena.take()!;
    expect(reusedOf(arena, chunks)).toBe(8);
    expect(long.bytes.toString()).toBe('€'.repeat(100));
  });
});
