import { describe, expect, it } from 'vitest';
import { ago, barPercent, every, keysFromText, listPath } from './overview-model.ts';

describe('the overview’s words and links', () => {
  it('a bar opens the device list filtered by its condition, quotes and all; a bar without one is not a link', () => {
    expect(listPath({ label: 'Connected', count: 3, where: "connectionState = 'Connected'" })).toBe(
      '/devices?where=connectionState+%3D+%27Connected%27',
    );
    expect(listPath({ label: 'Others', count: 3 })).toBeUndefined();
  });

  it('says how old a look is and how often looks are taken, as an operator reads it', () => {
    const now = Date.parse('2026-12-07T12:00:00Z');
    expect(ago('2026-12-07T11:59:40Z', now)).toBe('just now');
    expect(ago('2026-12-07T11:58:00Z', now)).toBe('2 min ago');
    expect(ago('2026-12-07T09:00:00Z', now)).toBe('3 h ago');
    expect(ago('2026-12-04T12:00:00Z', now)).toBe('3 days ago');
    expect(every(75)).toBe('every 75 s');
    expect(every(300)).toBe('every 5 min');
  });

  it('draws a sliver for a small count next to a large one, and nothing for none', () => {
    expect(barPercent(1, 10_000)).toBe(2);
    expect(barPercent(0, 10)).toBe(0);
    expect(barPercent(5, 10)).toBe(50);
  });

  it('reads desired keys as typed, with or without their properties.desired prefix', () => {
    expect(keysFromText('firmware.version, properties.desired.telemetry.enabled  ')).toEqual([
      'firmware.version',
      'telemetry.enabled',
    ]);
  });
});
