/**
 * Display helpers for allocation figures. Pure functions: no DOM, no JupyterLab.
 */

// A fixed locale, so that figures read the same for every user and in tests
// (the hub's own pages and `sacct` reports use the same notation).
const HOURS = new Intl.NumberFormat('en-US', {
  maximumFractionDigits: 2,
  useGrouping: true
});

/** Shown when there is no number to show (NaN, ±Infinity). */
export const NO_HOURS = '\u2014 h';

/**
 * Format a number of hours (GPU hours, core hours) for display.
 *
 * - thousands are grouped with "," and at most two decimals are kept, trailing
 *   zeros dropped: 1234.5 -> "1,234.5 h", 0.25 -> "0.25 h", 2 -> "2 h";
 * - a positive amount that would round to zero reads "<0.01 h", so that a
 *   short job never looks free;
 * - negative amounts (an overdrawn allocation) keep their sign, but never
 *   read "-0 h";
 * - NaN and ±Infinity read "— h" (a missing figure, not a crash).
 */
export function formatHours(hours: number): string {
  if (!Number.isFinite(hours)) {
    return NO_HOURS;
  }
  const rounded = Math.round(hours * 100) / 100;
  if (rounded === 0) {
    return hours > 0 ? '<0.01 h' : '0 h';
  }
  return `${HOURS.format(hours)} h`;
}

/** A countdown as H:MM:SS (or M:SS under an hour); never negative. */
export function formatCountdown(seconds: number): string {
  const total = Math.max(0, Math.floor(Number.isFinite(seconds) ? seconds : 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/** Bytes for people: 1536 -> "1.5 KiB"; null (unknown) -> "". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) {
    return '';
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
