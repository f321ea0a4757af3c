import { fitLine, MAX_LINE_BYTES } from './logging-options';

const line = (record: Record<string, unknown>) => `${JSON.stringify(record)}\n`;
const base = { level: 'error', time: '2026-11-30T01:00:00.000Z', pid: 7, service: 's', version: '1' };

/** The line as written: whole, one JSON record, within what a pipe writes atomically. */
function written(input: string): Record<string, unknown> {
  const output = fitLine(input);
  expect(Buffer.byteLength(output)).toBeLessThanOrEqual(MAX_LINE_BYTES);
  expect(output.endsWith('\n')).toBe(true);
  expect(output.indexOf('\n')).toBe(output.length - 1);
  return JSON.parse(output) as Record<string, unknown>;
}

describe('fitLine', () => {
  it('leaves a line that fits as it is', () => {
    const short = line({ ...base, msg: 'é'.repeat(1000) });
    expect(fitLine(short)).toBe(short);
  });

  it('cuts a long stack and message, keeping every field and saying how long they were', () => {
    const stack = `Error: boom\n${'    at somewhere (/srv/app.js:1:1)\n'.repeat(600)}`;
    const record = written(
      line({ ...base, err: { type: 'Error', message: 'boom', stack }, msg: 'x'.repeat(9000) }),
    );
    expect(record).toMatchObject({ ...base, err: { type: 'Error', message: 'boom' } });
    expect((record.err as { stack: string }).stack).toMatch(
      /^Error: boom\n {4}at somewhere.*… \(\d+ characters\)$/s,
    );
    expect(record.msg).toBe(`${'x'.repeat(1024)}… (9000 characters)`);
  });

  it('cuts harder when many strings are long, and keeps level, time and message start when nothing else fits', () => {
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}`, '€'.repeat(2000)]));
    expect(Object.keys(written(line({ ...base, ...many, msg: 'm' })))).toEqual([
      ...Object.keys(base),
      ...Object.keys(many),
      'msg',
    ]);
    const tooMany = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`field${i}`, 'v'.repeat(70)]));
    const input = line({ ...base, ...tooMany, msg: 'what happened' });
    expect(written(input)).toEqual({ ...base, msg: 'what happened', cut_bytes: Buffer.byteLength(input) });
  });
});
