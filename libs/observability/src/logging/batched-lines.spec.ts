import { BatchedLines } from './batched-lines';

function sink() {
  const writes: string[] = [];
  return { writes, write: (text: string) => writes.push(text) };
}

const line = (n: number, filler = 'x') => `{"n":${n},"msg":"${filler.repeat(100)}"}\n`;

describe('BatchedLines', () => {
  let batched: BatchedLines | undefined;
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    batched?.close();
    jest.useRealTimers();
  });

  it('writes the lines of the delay together, in order, once it is over', () => {
    const out = sink();
    batched = new BatchedLines(out, 20, 4096);
    for (let n = 0; n < 5; n++) batched.write(line(n));
    expect(out.writes).toEqual([]);
    jest.advanceTimersByTime(19);
    expect(out.writes).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(out.writes).toEqual([[0, 1, 2, 3, 4].map((n) => line(n)).join('')]);
    batched.write(line(5));
    jest.advanceTimersByTime(20);
    expect(out.writes).toEqual([expect.any(String), line(5)]);
  });

  it('never writes more than the limit at once, and only whole lines, counting bytes not characters', () => {
    const out = sink();
    batched = new BatchedLines(out, 20, 4096);
    const lines = Array.from({ length: 40 }, (_, n) => line(n, n % 2 ? 'é' : 'x'));
    lines.forEach((l) => batched!.write(l));
    jest.advanceTimersByTime(20);
    expect(out.writes.length).toBeGreaterThan(1);
    for (const text of out.writes) {
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(4096);
      expect(text.endsWith('\n')).toBe(true);
    }
    expect(out.writes.join('')).toBe(lines.join(''));
  });

  it('writes what waits on flush, on pino’s flush and when the process exits', () => {
    const out = sink();
    batched = new BatchedLines(out, 20, 4096);
    batched.write(line(1));
    batched.flushSync();
    expect(out.writes).toEqual([line(1)]);
    batched.write(line(2));
    const done = jest.fn();
    batched.flush(done);
    expect(out.writes).toEqual([line(1), line(2)]);
    expect(done).toHaveBeenCalledWith();
    batched.write(line(3));
    process.emit('exit', 0);
    expect(out.writes).toEqual([line(1), line(2), line(3)]);
    // Nothing waits: the timer of the flushed lines writes nothing more.
    jest.advanceTimersByTime(100);
    expect(out.writes).toHaveLength(3);
  });
});
