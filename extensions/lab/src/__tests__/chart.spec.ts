import { bars } from '../chart';

describe('usage chart', () => {
  it('scales the busiest day to the full height and keeps bars inside the box', () => {
    const result = bars([{ day: '2026-11-20', gpu_hours: 2 }, { day: '2026-11-21', gpu_hours: 8 },
                         { day: '2026-11-22', gpu_hours: 0 }], 120, 40);
    expect(result.map(b => b.height)).toEqual([10, 40, 0]);
    expect(result.every(b => b.x >= 0 && b.x + b.width <= 120 && b.y + b.height === 40)).toBe(true);
    expect(result[1].label).toBe('2026-11-21: 8 GPU-h');
  });

  it('draws nothing for no days and flat bars for an idle project', () => {
    expect(bars([], 100, 40)).toEqual([]);
    expect(bars([{ day: 'd', gpu_hours: 0 }], 100, 40)[0].height).toBe(0);
  });
});
