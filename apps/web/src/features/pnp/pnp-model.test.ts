import type { PnpInterface, Twin } from '@twinscope/contract';
import { describe, expect, it } from 'vitest';
import {
  commandName,
  telemetryFields,
  unitText,
  valueOf,
  writablePatch,
  writableState,
} from './pnp-model.ts';

const twin = (desired: object, reported: object): Twin =>
  ({
    deviceId: 'oslo-lab-controller-16',
    etag: 'e',
    version: 3,
    tags: {},
    properties: { desired, reported },
  }) as Twin;

describe('Plug and Play forms', () => {
  it('a writable property of a component is asked under the component with its marker; the default component’s at the root', () => {
    expect(writablePatch('thermostat1', 'targetTemperature', 30)).toEqual({
      thermostat1: { __t: 'c', targetTemperature: 30 },
    });
    expect(writablePatch(undefined, 'targetTemperature', 30)).toEqual({ targetTemperature: 30 });
    expect(commandName('thermostat2', 'getMaxMinReport')).toBe('thermostat2*getMaxMinReport');
    expect(commandName(undefined, 'reboot')).toBe('reboot');
  });

  it('reads the device’s acknowledgement: pending until it answers the asking version, applied on 200 with the value, refused with its description', () => {
    const asked = { $version: 7, thermostat1: { __t: 'c', targetTemperature: 30 } };
    expect(writableState(twin(asked, {}), 'thermostat1', 'targetTemperature')).toEqual({
      kind: 'pending',
      desired: 30,
      since: 7,
    });
    // A refusal of an older version: still pending (the device has not answered this one).
    expect(
      writableState(
        twin(asked, { thermostat1: { targetTemperature: { value: 21, ac: 400, av: 5 } } }),
        'thermostat1',
        'targetTemperature',
      ).kind,
    ).toBe('pending');
    expect(
      writableState(
        twin(asked, {
          thermostat1: { targetTemperature: { value: 30, ac: 200, av: 7, ad: 'Target set' } },
        }),
        'thermostat1',
        'targetTemperature',
      ),
    ).toEqual({ kind: 'applied', desired: 30, description: 'Target set' });
    expect(
      writableState(
        twin(asked, {
          thermostat1: { targetTemperature: { value: 21, ac: 400, av: 7, ad: 'Out of range' } },
        }),
        'thermostat1',
        'targetTemperature',
      ),
    ).toEqual({ kind: 'refused', desired: 30, status: 400, description: 'Out of range' });
    expect(writableState(twin({ $version: 1 }, {}), undefined, 'targetTemperature')).toEqual({
      kind: 'not-set',
    });
    // Another property changed since (the section's $version moved on): the refusal of the
    // version that set this one still stands, read from its $metadata.
    const later = {
      $version: 9,
      targetTemperature: 500,
      $metadata: { targetTemperature: { $lastUpdatedVersion: 7 } },
    };
    const acked = (ack: object) =>
      writableState(twin(later, { targetTemperature: ack }), undefined, 'targetTemperature').kind;
    expect(acked({ value: 500, ac: 400, av: 7, ad: 'Out of range' })).toBe('refused');
    // 202: accepted, still under way.
    expect(acked({ value: 500, ac: 202, av: 7 })).toBe('pending');
    // An object value acknowledged with its keys in another order is the same value.
    expect(
      writableState(
        twin(
          { $version: 2, range: { low: 1, high: 2 } },
          { range: { value: { high: 2, low: 1 }, ac: 200, av: 2 } },
        ),
        undefined,
        'range',
      ).kind,
    ).toBe('applied');
  });

  it('takes what was typed as the schema’s value, and says what it expects otherwise', () => {
    expect(valueOf({ type: 'primitive', name: 'double' }, ' 22.5 ')).toEqual({ value: 22.5 });
    expect(valueOf({ type: 'primitive', name: 'integer' }, '2.5')).toEqual({
      error: 'A whole number (integer).',
    });
    expect(valueOf({ type: 'primitive', name: 'dateTime' }, '2026-12-07T10:00:00Z')).toEqual({
      value: '2026-12-07T10:00:00Z',
    });
    expect(
      valueOf(
        {
          type: 'enum',
          valueSchema: 'integer',
          values: [
            { name: 'off', value: 0 },
            { name: 'on', value: 1 },
          ],
        },
        'on',
      ),
    ).toEqual({ value: 1 });
    expect(valueOf({ type: 'object', fields: [] }, '{"a":1}')).toEqual({ value: { a: 1 } });
    expect(unitText('degreeCelsius')).toBe('°C');
  });

  it('names the plot’s lines by the model: the default component’s by field, each component’s under its name', () => {
    const part = (id: string, displayName: string): PnpInterface => ({
      id,
      telemetry: [
        {
          name: 'temperature',
          displayName,
          schema: { type: 'primitive', name: 'double' },
          unit: 'degreeCelsius',
        },
      ],
      properties: [],
      commands: [],
    });
    const fields = telemetryFields({
      id: 'dtmi:com:example:TemperatureController;2',
      dtdlVersion: 3,
      root: part('dtmi:com:example:TemperatureController;2', 'Room'),
      components: [
        { name: 'thermostat1', interface: part('dtmi:com:example:Thermostat;1', 'Temperature') },
        { name: 'thermostat2', interface: part('dtmi:com:example:Thermostat;1', 'Temperature') },
      ],
    });
    expect(fields).toEqual({
      temperature: { name: 'Room', unit: '°C' },
      'thermostat1/temperature': { name: 'Temperature', unit: '°C' },
      'thermostat2/temperature': { name: 'Temperature', unit: '°C' },
    });
  });
});
