import { z } from 'zod';
import { JsonObjectSchema } from './json.ts';

/**
 * The Device Provisioning Service (DPS) as the console shows it: enrollment groups and
 * individual enrollments, and the registrations devices made through them. No key leaves
 * the BFF: a symmetric-key enrollment says it has keys, never which; a custom allocation
 * webhook's URL is shown without its query (an Azure Function's `code=` is a key).
 */

/** Registration and group ids, as DPS takes them (case-insensitive; kept lower case). */
export const EnrollmentIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9.\-_:]{0,127}$/,
    "An enrollment id is up to 128 letters, digits, '-', '.', '_' or ':', starting with a letter or digit.",
  );

export const EnrollmentKindSchema = z.enum(['group', 'individual']);
export type EnrollmentKind = z.infer<typeof EnrollmentKindSchema>;

export const AllocationPolicySchema = z.enum(['hashed', 'geoLatency', 'static', 'custom']);
export type AllocationPolicy = z.infer<typeof AllocationPolicySchema>;

/**
 * What happens when a provisioned device registers again: `migrate` (re-evaluate its hub and
 * keep its twin), `reset` (re-evaluate and start from the initial twin) or `never`.
 */
export const ReprovisionSchema = z.enum(['migrate', 'reset', 'never']);
export type Reprovision = z.infer<typeof ReprovisionSchema>;

/** What DPS read from a certificate it holds. */
export const CertificateInfoSchema = z.object({
  /** Which of the enrollment's two it is. */
  slot: z.enum(['primary', 'secondary']),
  subjectName: z.string().optional(),
  issuerName: z.string().optional(),
  sha1Thumbprint: z.string().optional(),
  sha256Thumbprint: z.string().optional(),
  notBeforeUtc: z.string().optional(),
  notAfterUtc: z.string().optional(),
});
export type CertificateInfo = z.infer<typeof CertificateInfoSchema>;

export const AttestationViewSchema = z.discriminatedUnion('type', [
  /** Keys exist (DPS made or was given them); the console never sees them. */
  z.object({ type: z.literal('symmetricKey') }),
  z.object({
    type: z.literal('x509'),
    /** A group's signing (CA) certificates, or an individual device's own. */
    certificates: z.array(CertificateInfoSchema),
    /** Certificates held in DPS's certificate store, by name, instead of given here. */
    caReferences: z.array(z.string()),
  }),
  z.object({ type: z.literal('tpm') }),
]);
export type AttestationView = z.infer<typeof AttestationViewSchema>;

/** An initial twin: what a device's twin starts from when it is assigned. */
export const InitialTwinSchema = z.object({
  tags: JsonObjectSchema,
  desired: JsonObjectSchema,
});
export type InitialTwin = z.infer<typeof InitialTwinSchema>;

export const CustomAllocationViewSchema = z.object({
  /** The webhook's scheme, host and path (its query, which may hold a key, stays in DPS). */
  webhook: z.string(),
  /** The URL has a query (e.g. an Azure Function's code=) that is not shown. */
  hasQuery: z.boolean(),
  apiVersion: z.string(),
});

/** An enrollment group or an individual enrollment. */
export const EnrollmentSchema = z.object({
  kind: EnrollmentKindSchema,
  id: z.string(),
  /** An individual enrollment's device id in the hub, when it names one (else the id). */
  deviceId: z.string().optional(),
  attestation: AttestationViewSchema,
  enabled: z.boolean(),
  iotEdge: z.boolean(),
  allocationPolicy: AllocationPolicySchema.nullable(),
  iotHubs: z.array(z.string()),
  customAllocation: CustomAllocationViewSchema.optional(),
  reprovision: ReprovisionSchema,
  initialTwin: InitialTwinSchema,
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  etag: z.string(),
});
export type Enrollment = z.infer<typeof EnrollmentSchema>;

const PemSchema = z
  .string()
  .max(16_384, 'A certificate is at most 16 KB of PEM.')
  .regex(/-----BEGIN CERTIFICATE-----/, 'A certificate is PEM text (-----BEGIN CERTIFICATE-----).');

/**
 * How devices of a new enrollment prove who they are. Symmetric keys are made by DPS (and
 * kept there); X.509 takes a PEM certificate (a group's signing CA, or a device's own);
 * TPM takes the endorsement key. An existing enrollment keeps its attestation unless new
 * certificates are given.
 */
export const AttestationInputSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('symmetricKey') }).strict(),
  z
    .object({
      type: z.literal('x509'),
      primary: PemSchema,
      secondary: PemSchema.optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('tpm'),
      endorsementKey: z.string().min(1).max(2048),
    })
    .strict(),
]);
export type AttestationInput = z.infer<typeof AttestationInputSchema>;

/** Creating an enrollment (no etag) or changing one (the etag it was read with). */
export const EnrollmentInputSchema = z
  .object({
    kind: EnrollmentKindSchema,
    id: EnrollmentIdSchema,
    /** Individual enrollments only: the device id to create (default: the registration id). */
    deviceId: z.string().max(128).optional(),
    /** Required to create; on a change, left out to keep the current attestation. */
    attestation: AttestationInputSchema.optional(),
    enabled: z.boolean().default(true),
    iotEdge: z.boolean().default(false),
    allocationPolicy: AllocationPolicySchema.default('hashed'),
    customAllocation: z
      .object({
        /** https://…; left out on a change to keep the current URL (whose query is hidden). */
        webhookUrl: z
          .url()
          .max(2048)
          .refine((url) => url.startsWith('https://') || url.startsWith('http://'), {
            message: 'The webhook is an http(s) URL.',
          })
          .optional(),
        apiVersion: z.string().max(32).default('2021-10-01'),
      })
      .strict()
      .optional(),
    reprovision: ReprovisionSchema.default('migrate'),
    initialTwin: InitialTwinSchema.default({ tags: {}, desired: {} }),
    etag: z.string().max(128).optional(),
  })
  .strict();
export type EnrollmentInput = z.infer<typeof EnrollmentInputSchema>;

export const RegistrationStatusSchema = z.enum([
  'unassigned',
  'assigning',
  'assigned',
  'failed',
  'disabled',
]);

/** A device's registration record: where DPS assigned it, or why not. */
export const RegistrationSchema = z.object({
  registrationId: z.string(),
  deviceId: z.string().optional(),
  assignedHub: z.string().optional(),
  status: RegistrationStatusSchema,
  substatus: z.string().optional(),
  errorCode: z.number().optional(),
  errorMessage: z.string().optional(),
  /** The group it came through; none for an individual enrollment. */
  enrollmentGroupId: z.string().optional(),
  createdAt: z.string().optional(),
  updatedAt: z.string().optional(),
  etag: z.string().optional(),
});
export type Registration = z.infer<typeof RegistrationSchema>;

/** The provisioning page: what DPS holds, or why the console cannot reach one. */
export const ProvisioningOverviewSchema = z.object({
  /** The service the BFF manages (its host), or none when no DPS is configured. */
  service: z.string().optional(),
  /** What devices are given: the id scope and the host they dial. */
  idScope: z.string().optional(),
  deviceEndpoint: z.string().optional(),
  groups: z.array(EnrollmentSchema),
  enrollments: z.array(EnrollmentSchema),
  /** More than the page shows exist (the first 1,000 of each are listed). */
  truncated: z.boolean(),
});
export type ProvisioningOverview = z.infer<typeof ProvisioningOverviewSchema>;

export const RegistrationListSchema = z.object({ items: z.array(RegistrationSchema) });

/** How a device came to the hub: through which enrollment, and its registration record. */
export const DeviceProvisioningSchema = z.object({
  /** Whether a DPS is configured to ask at all. */
  configured: z.boolean(),
  enrollment: z.object({ kind: EnrollmentKindSchema, id: z.string() }).optional(),
  registration: RegistrationSchema.optional(),
});
export type DeviceProvisioning = z.infer<typeof DeviceProvisioningSchema>;
