import { describe, expect, it } from 'vitest';
import { reachNotes } from './reach.ts';

describe('reachNotes', () => {
  it('when the hub listens where the SDKs dial, then it says every SDK reaches it with a bare HostName', () => {
    expect(
      reachNotes({ hostName: '127.0.0.1', httpsPort: 443, mqttPort: 8883, amqpsPort: 5671 }),
    ).toEqual(['every SDK and transport, with HostName=127.0.0.1 (ports 443, 8883, 5671)']);
  });

  it('when HTTPS fell back to 8443, then it names who cannot reach it and how to fix it', () => {
    const notes = reachNotes({
      hostName: '127.0.0.1',
      httpsPort: 8443,
      mqttPort: 8883,
      amqpsPort: 40000,
    });
    expect(notes[0]).toContain('HTTPS is on 8443, not 443');
    expect(notes[0]).toContain('.NET, Java, Python and C service clients');
    expect(notes[0]).toContain('HostName=127.0.0.1:8443');
    expect(notes[1]).toContain('setcap cap_net_bind_service');
    expect(notes[2]).toContain('AMQP is on 40000, not 5671');
    expect(notes.some((n) => n.startsWith('MQTT is on'))).toBe(false);
  });
});
