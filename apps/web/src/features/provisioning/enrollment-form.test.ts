import type { Enrollment } from '@twinscope/contract';
import { describe, expect, it } from 'vitest';
import {
  enrollmentInput,
  formOf,
  isFormDirty,
  newEnrollmentForm,
  toggledInput,
} from './enrollment-form.ts';
import { expiryOf } from './enrollment-text.ts';
import { initialTwinText } from './initial-twin.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

const group: Enrollment = {
  kind: 'group',
  id: 'demo-sensors',
  attestation: {
    type: 'x509',
    certificates: [
      { slot: 'primary', subjectName: 'CN=Demo CA', notAfterUtc: '2030-01-01T00:00:00Z' },
    ],
    caReferences: [],
  },
  enabled: true,
  iotEdge: false,
  allocationPolicy: 'custom',
  iotHubs: ['hub-a.azure-devices.net'],
  customAllocation: {
    webhook: 'https://alloc.example/api/choose',
    hasQuery: true,
    apiVersion: '2021-10-01',
  },
  reprovision: 'reset',
  initialTwin: { tags: { site: 'lyon' }, desired: { interval: 30 } },
  etag: '"e1"',
};

describe("the enrollment form's model", () => {
  it('when a new group is filled in, then Save sends what the contract takes, with no etag', () => {
    const form = {
      ...newEnrollmentForm(),
      id: 'demo-sensors',
      initialTwin: initialTwinText({ tags: { site: 'lyon' }, desired: { interval: 30 } }),
    };
    expect(enrollmentInput('group', form)).toEqual({
      ok: true,
      input: {
        kind: 'group',
        id: 'demo-sensors',
        attestation: { type: 'symmetricKey' },
        enabled: true,
        iotEdge: false,
        allocationPolicy: 'hashed',
        reprovision: 'migrate',
        initialTwin: { tags: { site: 'lyon' }, desired: { interval: 30 } },
      },
    });
  });

  it('when a field is missing or wrong, then the form names that field before anything is sent', () => {
    const base = { ...newEnrollmentForm(), id: 'dev-1' };
    expect(enrollmentInput('group', { ...base, id: '' })).toMatchObject({ ok: false, field: 'id' });
    expect(enrollmentInput('group', { ...base, id: '-bad' })).toMatchObject({
      ok: false,
      field: 'id',
    });
    expect(enrollmentInput('individual', { ...base, attestation: 'x509' })).toMatchObject({
      ok: false,
      field: 'primaryCertificate',
    });
    expect(
      enrollmentInput('individual', { ...base, attestation: 'x509', primaryCertificate: 'MIIB' }),
    ).toMatchObject({ ok: false, field: 'primaryCertificate' });
    expect(enrollmentInput('individual', { ...base, attestation: 'tpm' })).toMatchObject({
      ok: false,
      field: 'endorsementKey',
    });
    expect(enrollmentInput('group', { ...base, allocationPolicy: 'custom' })).toMatchObject({
      ok: false,
      field: 'webhookUrl',
    });
    expect(
      enrollmentInput('group', { ...base, allocationPolicy: 'custom', webhookUrl: 'ftp://x' }),
    ).toMatchObject({ ok: false, field: 'webhookUrl' });
    expect(
      enrollmentInput('group', { ...base, initialTwin: '{"tags": {"a b": 1}}' }),
    ).toMatchObject({ ok: false, field: 'initialTwin' });
  });

  it('when an individual enrollment names a device and X.509 certificates, then both are sent', () => {
    const result = enrollmentInput('individual', {
      ...newEnrollmentForm(),
      id: 'dev-1',
      deviceId: ' sensor-1 ',
      attestation: 'x509',
      primaryCertificate: PEM,
    });
    expect(result).toMatchObject({
      ok: true,
      input: { deviceId: 'sensor-1', attestation: { type: 'x509', primary: PEM } },
    });
  });

  it('when an enrollment is changed, then it keeps its attestation and webhook unless new ones are given, and carries its etag', () => {
    const form = formOf(group);
    expect(isFormDirty(form, formOf(group))).toBe(false);
    const kept = enrollmentInput('group', { ...form, iotEdge: true }, group);
    expect(kept).toEqual({
      ok: true,
      input: {
        kind: 'group',
        id: 'demo-sensors',
        enabled: true,
        iotEdge: true,
        allocationPolicy: 'custom',
        customAllocation: { apiVersion: '2021-10-01' },
        reprovision: 'reset',
        initialTwin: group.initialTwin,
        etag: '"e1"',
      },
    });
    const renewed = enrollmentInput(
      'group',
      {
        ...form,
        replaceCertificates: true,
        primaryCertificate: PEM,
        webhookUrl: 'https://alloc.example/v2',
      },
      group,
    );
    expect(renewed).toMatchObject({
      ok: true,
      input: {
        attestation: { type: 'x509', primary: PEM },
        customAllocation: { webhookUrl: 'https://alloc.example/v2' },
      },
    });
  });

  it('when an enrollment is disabled, then only enabled changes, with the etag it was read with', () => {
    expect(toggledInput(group)).toMatchObject({
      enabled: false,
      etag: '"e1"',
      reprovision: 'reset',
    });
    expect(toggledInput(group).attestation).toBeUndefined();
  });

  it("when a certificate's end is near or past, then it is flagged", () => {
    const now = Date.parse('2029-12-15T00:00:00Z');
    expect(expiryOf({ notAfterUtc: '2030-01-01T00:00:00Z' }, now)).toBe('soon');
    expect(expiryOf({ notAfterUtc: '2029-01-01T00:00:00Z' }, now)).toBe('expired');
    expect(expiryOf({ notAfterUtc: '2031-01-01T00:00:00Z' }, now)).toBe('valid');
    expect(expiryOf({}, now)).toBeUndefined();
  });
});
