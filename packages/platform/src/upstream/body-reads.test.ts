import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { bodyReads, readBounded } from './body-reads.js';

const text = (batch: Buffer[]) => Buffer.concat(batch).toString();

describe('bodyReads', () => {
  it('gives what arrived since the last step in one batch, then ends', async () => {
    const body = new PassThrough();
    const reads = bodyReads(body);
    body.write('a');
    body.write('b');
    expect(text((await reads.next()).value as Buffer[])).toBe('ab');
    const next = reads.next();
    body.end('c');
    expect(text((await next).value as Buffer[])).toBe('c');
    expect((await reads.next()).done).toBe(true);
    expect(body.listenerCount('data')).toBe(0);
  });

  it('takes what the body held before the first step at once, not on the next tick', async () => {
    const body = new PassThrough();
    body.write('a');
    body.write('b');
    const reads = bodyReads(body);
    const first = reads.next();
    expect(body.readableLength).toBe(0);
    expect(text((await first).value as Buffer[])).toBe('ab');
    const next = reads.next();
    body.end('c');
    expect(text((await next).value as Buffer[])).toBe('c');
    expect((await reads.next()).done).toBe(true);
  });

  it('gives the pieces that arrived before a failure, then throws it', async () => {
    const body = new PassThrough();
    const reads = bodyReads(body);
    const first = reads.next();
    body.write('kept');
    body.destroy(new Error('socket reset'));
    expect(text((await first).value as Buffer[])).toBe('kept');
    await expect(reads.next()).rejects.toThrow('socket reset');
  });

  it('a body destroyed without an error is a premature close', async () => {
    const body = new PassThrough();
    const reads = bodyReads(body);
    const first = reads.next();
    body.destroy();
    await expect(first).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  it('a short body gives its piece and ends; a body that already ended gives nothing', async () => {
    const body = Readable.from([Buffer.from('x')]);
    const batches: string[] = [];
    for await (const batch of bodyReads(body)) batches.push(text(batch));
    expect(batches.join('')).toBe('x');
    const empty = new PassThrough();
    empty.end();
    await new Promise((resolve) => empty.once('end', resolve).resume());
    expect((await bodyReads(empty).next()).done).toBe(true);
  });

  it('pauses the body while a slow reader holds more than its high-water mark, and resumes it on the next step', async () => {
    const body = new PassThrough({ highWaterMark: 1024 });
    const reads = bodyReads(body);
    const first = reads.next();
    const piece = Buffer.alloc(16 * 1024, 'x');
    for (let i = 0; i < 8; i++) body.write(piece);
    let total = Buffer.concat((await first).value as Buffer[]).length;
    // The reader takes nothing more for a while: past 64 KiB held, the body stays paused.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(body.isPaused()).toBe(true);
    total += Buffer.concat((await reads.next()).value as Buffer[]).length;
    expect(body.isPaused()).toBe(false);
    body.end();
    for await (const batch of reads) total += Buffer.concat(batch).length;
    expect(total).toBe(8 * 16 * 1024);
  });
});

describe('readBounded', () => {
  it('reads a whole body as text', async () => {
    expect(await readBounded(Readable.from([Buffer.from('{"a":'), Buffer.from('1}')]), 100)).toEqual({ text: '{"a":1}', truncated: false });
  });

  it('stops at the limit: the text cut there, the body destroyed unread', async () => {
    const body = new PassThrough();
    const reading = readBounded(body, 5);
    body.write('0123456789');
    expect(await reading).toEqual({ text: '01234', truncated: true });
    expect(body.destroyed).toBe(true);
  });

  it('a body destroyed before its end is a premature close; an error is passed on', async () => {
    const cut = new PassThrough();
    const cutReading = readBounded(cut, 100);
    cut.write('par');
    cut.destroy();
    await expect(cutReading).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    const failing = new PassThrough();
    const failingReading = readBounded(failing, 100);
    failing.destroy(new Error('socket reset'));
    await expect(failingReading).rejects.toThrow('socket reset');
  });

  it('takes a body whose declared length is all here at once, before the stream emits its end', async () => {
    const body = new PassThrough();
    body.write('{"a":');
    body.end('1}');
    let ended = false;
    body.once('end', () => (ended = true));
    const result = await readBounded(body, 100, 7);
    expect(ended).toBe(false);
    expect(result).toEqual({ text: '{"a":1}', truncated: false });
    // The stream still ends by itself, and a destroy meanwhile raises no error nobody hears.
    await once(body, 'end');
    const destroyed = new PassThrough();
    destroyed.end('{}');
    expect(await readBounded(destroyed, 100, 2)).toEqual({ text: '{}', truncated: false });
    destroyed.destroy(new Error('late reset'));
    await new Promise((resolve) => destroyed.once('close', resolve));
  });

  it('waits for the rest when less than the declared length is here, and keeps the limit when more is declared', async () => {
    const partial = new PassThrough();
    partial.write('{"a":');
    const reading = readBounded(partial, 100, 7);
    partial.end('1}');
    expect(await reading).toEqual({ text: '{"a":1}', truncated: false });
    const large = new PassThrough();
    large.end('0123456789');
    expect(await readBounded(large, 5, 10)).toEqual({ text: '01234', truncated: true });
  });

  it('a body whose declared bytes are all here before its end is marked still ends once they are read', async () => {
    // EOF not yet seen when the declared bytes are taken: resumed, the body still emits its end.
    const body = new PassThrough();
    body.write('{}');
    expect(await readBounded(body, 100, 2)).toEqual({ text: '{}', truncated: false });
    body.end();
    await once(body, 'end');
  });
});
