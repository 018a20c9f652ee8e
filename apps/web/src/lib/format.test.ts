import { describe, expect, it } from 'vitest';
import { byteSize, relativeTime } from './format.ts';

describe('formatting for people', () => {
  it('when a size is shown, then it is in bytes below 1 KB and in the largest unit past it, one decimal under 10', () => {
    expect(byteSize(0)).toBe('0 bytes');
    expect(byteSize(1)).toBe('1 byte');
    expect(byteSize(1023)).toBe('1023 bytes');
    expect(byteSize(1024)).toBe('1 KB');
    expect(byteSize(1536)).toBe('1.5 KB');
    expect(byteSize(300_000)).toBe('293 KB');
    expect(byteSize(1024 * 1024 - 1)).toBe('1 MB');
    expect(byteSize(250 * 1024 * 1024)).toBe('250 MB');
    expect(byteSize(3.25 * 1024 ** 3)).toBe('3.3 GB');
    expect(byteSize(5000 * 1024 ** 4)).toBe('5000 TB');
  });

  it('when a time is shown relative to now, then recent ones count up and IoT Hub’s zero time is never', () => {
    const now = Date.parse('2026-12-07T12:00:00Z');
    expect(relativeTime('2026-12-07T11:59:58Z', now)).toBe('just now');
    expect(relativeTime('2026-12-07T11:59:30Z', now)).toBe('30 s ago');
    expect(relativeTime('2026-12-07T11:15:00Z', now)).toBe('45 min ago');
    expect(relativeTime('2026-12-07T09:00:00Z', now)).toBe('3 h ago');
    expect(relativeTime('0001-01-01T00:00:00Z', now)).toBe('never');
  });
});
