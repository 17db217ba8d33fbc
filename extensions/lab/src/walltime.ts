/**
 * When to warn about the end of the session's walltime. Pure: the status bar item and its
 * notifications call these with the clock; tests call them with numbers.
 */

/** Warnings before the end, in minutes (the 15 and 3). */
export const WARNINGS_MINUTES = [15, 3];

/**
 * The warnings that are due now and not yet given: a warning is due once fewer than its
 * minutes remain. Only the most urgent of several due warnings is returned (a session opened
 * 2 minutes before its end gets one warning, not two).
 */
export function dueWarning(remainingSeconds: number, given: ReadonlySet<number>): number | null {
  const due = WARNINGS_MINUTES.filter(m => remainingSeconds <= m * 60 && !given.has(m));
  return due.length ? Math.min(...due) : null;
}

/** After a warning of `minutes`, every longer warning counts as given too. */
export function markGiven(minutes: number, given: Set<number>): void {
  for (const m of WARNINGS_MINUTES) {
    if (m >= minutes) {
      given.add(m);
    }
  }
}

export function warningText(minutes: number): string {
  return `This session reaches its walltime in ${minutes} minutes: save your work. ` +
    'The Slurm job (and unsaved changes) ends then.';
}
