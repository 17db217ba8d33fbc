import { formatHours, NO_HOURS } from '../format';

describe('formatHours', () => {
  it.each([
    [1234.5, '1,234.5 h'],
    [0.25, '0.25 h'],
    [2, '2 h'],
    [1_000_000, '1,000,000 h'],
    [1 / 3, '0.33 h'],
    [2.999, '3 h'],
    [12.1, '12.1 h']
  ])('formats %p as %p', (hours, expected) => {
    expect(formatHours(hours)).toBe(expected);
  });

  it('never rounds a positive amount down to zero', () => {
    expect(formatHours(0.001)).toBe('<0.01 h');
    expect(formatHours(0.0049)).toBe('<0.01 h');
    expect(formatHours(0.005)).toBe('0.01 h');
  });

  it('shows zero without a sign', () => {
    expect(formatHours(0)).toBe('0 h');
    expect(formatHours(-0)).toBe('0 h');
    expect(formatHours(-0.001)).toBe('0 h');
  });

  it('keeps the sign of an overdrawn allocation', () => {
    expect(formatHours(-1.5)).toBe('-1.5 h');
    expect(formatHours(-2500)).toBe('-2,500 h');
  });

  it.each([NaN, Infinity, -Infinity])('shows %p as a missing figure', value => {
    expect(formatHours(value)).toBe(NO_HOURS);
  });
});

import { formatBytes, formatCountdown } from '../format';

describe('formatCountdown', () => {
  it.each([
    [3909, '1:05:09'], [59, '0:59'], [600, '10:00'], [0, '0:00'], [-5, '0:00'], [NaN, '0:00']
  ])('shows %p seconds as %p', (seconds, expected) => {
    expect(formatCountdown(seconds)).toBe(expected);
  });
});

describe('formatBytes', () => {
  it.each([[512, '512 B'], [1536, '1.5 KiB'], [3 * 1024 ** 3, '3.0 GiB'], [null, ''], [undefined, '']])(
    'shows %p as %p', (bytes, expected) => {
      expect(formatBytes(bytes as number | null | undefined)).toBe(expected);
    });
});
