import { dueWarning, markGiven, warningText, WARNINGS_MINUTES } from '../walltime';

describe('walltime warnings', () => {
  it('warns 15 and 3 minutes before the end, once each', () => {
    const given = new Set<number>();
    expect(WARNINGS_MINUTES).toEqual([15, 3]);
    expect(dueWarning(16 * 60, given)).toBeNull();
    expect(dueWarning(15 * 60, given)).toBe(15);
    markGiven(15, given);
    expect(dueWarning(14 * 60, given)).toBeNull();
    expect(dueWarning(3 * 60 - 1, given)).toBe(3);
    markGiven(3, given);
    expect(dueWarning(10, given)).toBeNull();
  });

  it('gives only the most urgent warning to a session opened late', () => {
    const given = new Set<number>();
    expect(dueWarning(120, given)).toBe(3);
    markGiven(3, given);
    expect(given).toEqual(new Set([15, 3]));
    expect(dueWarning(60, given)).toBeNull();
  });

  it('says how long is left and what to do', () => {
    expect(warningText(3)).toContain('3 minutes');
    expect(warningText(3)).toContain('save');
  });
});
