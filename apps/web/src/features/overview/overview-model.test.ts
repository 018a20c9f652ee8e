import { describe, expect, it } from 'vitest';
import { ago, barPercent, every, keysFromText, linePath, listPath } from './overview-model.ts';

describe('the overview’s words and links', () => {
  it('a bar opens the device list filtered by its condition, quotes and all; a bar without one is not a link', () => {
    expect(listPath({ label: 'Connected', count: 3, where: "connectionState = 'Connected'" })).toBe(
      '/devices?where=connectionState+%3D+%27Connected%27',
    );
    expect(listPath({ label: 'Others', count: 3 })).toBeUndefined();
    expect(listPath({ label: 'Holds it', count: 2, where: 'x = 1' }, 'modules')).toBe(
      '/devices?source=modules&where=x+%3D+1',
    );
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

  it('places trend points by when they were taken and breaks the line over hours nobody looked', () => {
    const box = { width: 104, height: 104, pad: 2 };
    const hour = 3_600_000;
    const at = (h: number, value: number) => ({ at: h * hour, value });
    // Hours 0, 1, then 4 and 5 (the console was stopped for two): the hour-4 point sits at
    // four fifths of the width, and the stroke starts again there.
    expect(linePath([at(0, 0), at(1, 50), at(4, 100), at(5, 100)], 100, hour, box)).toBe(
      'M2.0,102.0 L22.0,52.0 M82.0,2.0 L102.0,2.0',
    );
    // A point alone after a gap (the newest after a restart) is a short stroke, not nothing.
    expect(linePath([at(0, 0), at(1, 50), at(5, 100)], 100, hour, box)).toBe(
      'M2.0,102.0 L22.0,52.0 M101.5,2.0 L102.0,2.0',
    );
    expect(linePath([at(3, 50)], 100, hour, box)).toBe('M2,52.0 L102,52.0');
    expect(linePath([], 100, hour, box)).toBe('');
  });
});
