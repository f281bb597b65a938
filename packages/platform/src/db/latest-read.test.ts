import { describe, expect, it } from 'vitest';
import { latestReadWins } from './latest-read.js';

describe('latestReadWins', () => {
  it('drops a read that comes back after a later one was applied', async () => {
    const answers: Array<(value: string) => void> = [];
    const applied: string[] = [];
    const reload = latestReadWins(
      () => new Promise<string>((resolve) => answers.push(resolve)),
      (value) => applied.push(value),
    );
    const older = reload();
    const newer = reload();
    answers[1]!('new snapshot');
    await newer;
    answers[0]!('old snapshot');
    await older;
    expect(applied).toEqual(['new snapshot']);
  });

  it('applies reads that do not overlap, each in turn', async () => {
    let n = 0;
    const applied: number[] = [];
    const reload = latestReadWins(async () => ++n, (value) => applied.push(value));
    await reload();
    await reload();
    expect(applied).toEqual([1, 2]);
  });
});
