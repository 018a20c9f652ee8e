import { describe, expect, it } from 'vitest';
import { allowedFilters, classifyPublish, identityFromClientId, topicMatches } from './topics.ts';

describe('IoT Hub MQTT topics', () => {
  it('when filters have wildcards, then they match as MQTT defines', () => {
    expect(topicMatches('$iothub/twin/res/#', '$iothub/twin/res/200/?$rid=1')).toBe(true);
    expect(
      topicMatches(
        '$iothub/twin/PATCH/properties/desired/#',
        '$iothub/twin/PATCH/properties/desired/?$version=4',
      ),
    ).toBe(true);
    expect(
      topicMatches('devices/+/messages/devicebound/#', 'devices/d1/messages/devicebound/x'),
    ).toBe(true);
    expect(topicMatches('$iothub/twin/res/#', '$iothub/methods/POST/reboot/?$rid=1')).toBe(false);
    expect(topicMatches('a/b', 'a/b/c')).toBe(false);
  });

  it('when a client id names a device or a module, then the identity follows; anything else is refused', () => {
    expect(identityFromClientId('dev1')).toEqual({ deviceId: 'dev1' });
    expect(identityFromClientId('dev1/mod1')).toEqual({ deviceId: 'dev1', moduleId: 'mod1' });
    expect(identityFromClientId('a/b/c')).toBeUndefined();
    expect(identityFromClientId('')).toBeUndefined();
  });

  it('when a module publishes, then twin, method and output-event topics are read for that module only', () => {
    const me = { deviceId: 'd1', moduleId: 'm1' };
    expect(classifyPublish('$iothub/twin/GET/?$rid=42', me)).toEqual({
      kind: 'twin-get',
      rid: '42',
    });
    expect(classifyPublish('$iothub/twin/PATCH/properties/reported/?$rid=7', me)).toEqual({
      kind: 'twin-reported',
      rid: '7',
    });
    expect(classifyPublish('$iothub/methods/res/200/?$rid=9', me)).toEqual({
      kind: 'method-response',
      rid: '9',
      status: 200,
    });
    const output = classifyPublish(
      'devices/d1/modules/m1/messages/events/%24.on=out1&%24.ct=application%2Fjson&alert=hi%20there/',
      me,
    );
    expect(output.kind).toBe('telemetry');
    expect(output.kind === 'telemetry' && Object.fromEntries(output.properties)).toEqual({
      '$.on': 'out1',
      '$.ct': 'application/json',
      alert: 'hi there',
    });
    expect(classifyPublish('devices/d2/messages/events/', { deviceId: 'd1' }).kind).toBe('unknown');
    expect(allowedFilters(me)).toContain('devices/d1/modules/m1/inputs/#');
  });
});
