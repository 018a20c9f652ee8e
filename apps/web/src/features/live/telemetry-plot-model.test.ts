import type { TelemetryEvent } from '@twinscope/contract';
import { describe, expect, it } from 'vitest';
import { plotColumns, plottablePaths } from './telemetry-plot-model.ts';

const message = (at: string, body: TelemetryEvent['body'], position: string): TelemetryEvent => ({
  type: 'telemetry',
  deviceId: 'oslo-lab-thermostat-15',
  enqueuedTime: at,
  position,
  body,
  bytes: 10,
  properties: {},
  system: {},
});

describe('the telemetry plot’s columns', () => {
  const messages = [
    // Newest first, as the viewer keeps them.
    message(
      '2026-12-07T10:00:02Z',
      { kind: 'json', value: { temperature: 22.5, humidity: 40 } },
      '0:3',
    ),
    message('2026-12-07T10:00:01Z', { kind: 'text', text: 'hello' }, '0:2'),
    message(
      '2026-12-07T10:00:00Z',
      {
        kind: 'json',
        value: { temperature: 21, status: 'ok', env: { pressure: 1013 }, list: [1] },
      },
      '0:1',
    ),
  ];

  it('finds every number in the JSON bodies, nested ones by their path, and nothing else', () => {
    expect(plottablePaths(messages)).toEqual(['temperature', 'humidity', 'env.pressure']);
  });

  it('lines up each path’s values oldest first, with a gap where a message did not carry it', () => {
    expect(plotColumns(messages, ['temperature', 'humidity'])).toEqual({
      times: [Date.parse('2026-12-07T10:00:00Z') / 1000, Date.parse('2026-12-07T10:00:02Z') / 1000],
      values: [
        [21, 22.5],
        [null, 40],
      ],
    });
  });

  it('a Plug and Play component’s fields are lines of their own: two thermostats’ temperatures do not merge', () => {
    const from = (component: string, at: string, temperature: number, position: string) => ({
      ...message(at, { kind: 'json', value: { temperature } }, position),
      system: { 'dt-subject': component },
    });
    const controller = [
      from('thermostat2', '2026-12-07T10:00:01Z', 30, '0:2'),
      from('thermostat1', '2026-12-07T10:00:00Z', 20, '0:1'),
    ];
    const paths = plottablePaths(controller);
    expect(paths).toEqual(['thermostat2/temperature', 'thermostat1/temperature']);
    expect(plotColumns(controller, paths).values).toEqual([
      [null, 30],
      [20, null],
    ]);
  });
});
