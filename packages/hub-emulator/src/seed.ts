import { patchSection, type JsonObject } from '@twinscope/twin';
import type { IdentityRecord } from './store/model.ts';
import type { Registry } from './store/registry.ts';

interface SeedDevice {
  deviceId: string;
  tags: JsonObject;
  desired?: JsonObject;
  reported?: JsonObject;
  modules: { moduleId: string; desired: JsonObject; reported: JsonObject }[];
}

const LAYOUT: { site: string; building: string; roles: string[] }[] = [
  { site: 'berlin', building: 'b1', roles: ['gateway', 'hvac', 'meter'] },
  { site: 'berlin', building: 'b2', roles: ['hvac', 'meter', 'camera'] },
  { site: 'lyon', building: 'north', roles: ['gateway', 'meter'] },
  { site: 'lyon', building: 'south', roles: ['hvac', 'camera'] },
  { site: 'toronto', building: 'hq', roles: ['gateway', 'hvac'] },
];

/** A dozen devices with realistic tags (site, building, role, owner) and one to four modules each. */
function demoFleet(): SeedDevice[] {
  const devices: SeedDevice[] = [];
  let n = 0;
  for (const { site, building, roles } of LAYOUT) {
    for (const role of roles) {
      n++;
      const deviceId = `${site}-${building}-${role}-${String(n).padStart(2, '0')}`;
      const modules: SeedDevice['modules'] = [
        {
          moduleId: 'telemetry',
          desired: { sendIntervalSeconds: 30, unit: 'metric' },
          reported: { sendIntervalSeconds: 30, lastSentAt: '2026-11-01T08:00:00Z' },
        },
      ];
      if (role === 'gateway' || role === 'hvac') {
        modules.push({
          moduleId: 'controller',
          desired: { mode: role === 'hvac' ? 'eco' : 'forward', setpoint: { celsius: 21.5 } },
          reported: { mode: role === 'hvac' ? 'eco' : 'forward', firmware: '2.4.1' },
        });
      }
      if (role === 'gateway') {
        modules.push(
          {
            moduleId: 'opcua-bridge',
            desired: { endpoints: ['opc.tcp://plc-1:4840'] },
            reported: { connected: true },
          },
          { moduleId: 'storage', desired: { retentionDays: 7 }, reported: { usedMegabytes: 412 } },
        );
      }
      devices.push({
        deviceId,
        tags: { site, building, role, owner: { team: site === 'toronto' ? 'na-ops' : 'eu-ops' } },
        desired: { telemetry: { enabled: true } },
        reported: { firmware: { version: n % 3 === 0 ? '1.9.0' : '2.0.3' } },
        modules,
      });
    }
  }
  return devices;
}

function withTwin(
  record: IdentityRecord,
  at: string,
  tags: JsonObject,
  desired?: JsonObject,
  reported?: JsonObject,
): IdentityRecord {
  const twin = { ...record.twin, tags };
  if (desired) twin.desired = patchSection(twin.desired, desired, { at, trackVersion: true });
  if (reported) twin.reported = patchSection(twin.reported, reported, { at, trackVersion: false });
  twin.version += (desired ? 1 : 0) + (reported ? 1 : 0) + 1;
  return { ...record, twin };
}

function build(registry: Registry, devices: SeedDevice[]): IdentityRecord[] {
  const at = new Date().toISOString();
  const records: IdentityRecord[] = [];
  for (const device of devices) {
    const record = registry.buildRecord(device.deviceId);
    records.push(withTwin(record, at, device.tags, device.desired, device.reported));
    for (const module of device.modules) {
      const moduleRecord = registry.buildRecord(device.deviceId, module.moduleId);
      records.push(withTwin(moduleRecord, at, {}, module.desired, module.reported));
    }
  }
  return records;
}

function largeFleet(count: number): SeedDevice[] {
  const roles = ['gateway', 'hvac', 'meter', 'camera', 'sensor'];
  const sites = ['berlin', 'lyon', 'toronto', 'osaka', 'austin', 'porto', 'oslo'];
  const devices: SeedDevice[] = new Array(count);
  for (let i = 0; i < count; i++) {
    devices[i] = {
      deviceId: `device-${String(i).padStart(6, '0')}`,
      tags: {
        site: sites[i % sites.length]!,
        building: `b${i % 20}`,
        role: roles[i % roles.length]!,
      },
      desired: { telemetry: { intervalSeconds: 30 + (i % 4) * 15 } },
      reported: { firmware: { version: i % 10 === 0 ? '1.9.0' : '2.0.3' } },
      modules: [],
    };
  }
  return devices;
}

/** Seeds an empty registry; returns how many devices it created (0 when not empty). */
export function seedFleet(registry: Registry, seed: 'demo' | number): number {
  if (registry.deviceCount > 0) return 0;
  const devices = seed === 'demo' ? demoFleet() : largeFleet(seed);
  registry.loadFleet(build(registry, devices));
  return devices.length;
}
