/** Scaling of the small usage-over-time chart (pure: tested without a DOM). */

export interface DailyUsage {
  day: string;
  gpu_hours: number;
}

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  label: string;
}

/** One bar per day, scaled to a width x height box; the tallest day fills the height. */
export function bars(days: DailyUsage[], width: number, height: number): Bar[] {
  if (!days.length) {
    return [];
  }
  const top = Math.max(...days.map(d => d.gpu_hours), 0);
  const slot = width / days.length;
  return days.map((d, i) => {
    const h = top > 0 ? Math.max(0, (d.gpu_hours / top) * height) : 0;
    return { x: i * slot + slot * 0.1, y: height - h, width: slot * 0.8, height: h,
             label: `${d.day}: ${Math.round(d.gpu_hours * 100) / 100} GPU-h` };
  });
}
