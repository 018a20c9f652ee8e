import { z } from 'zod';

/**
 * What devices uploaded through IoT Hub's file upload: blobs named `{deviceId}/{name}` in the
 * hub's file upload container. The console lists a device's and downloads one through the
 * BFF; the storage account's key never leaves it.
 */

/** Blob names are at most 1,024 characters, the device's folder included. */
export const BLOB_NAME_MAX = 1024;

/** A page lists at most this many files. */
export const DEVICE_FILES_PAGE_MAX = 1000;

export const DeviceFilesQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(DEVICE_FILES_PAGE_MAX).default(100),
    /** The page before's `next`. */
    continuation: z.string().min(1).max(4096).optional(),
  })
  .strict();
export type DeviceFilesQuery = z.infer<typeof DeviceFilesQuerySchema>;

export const DeviceFileSchema = z.object({
  /** The name under the device's folder, as the device gave it (`diagnostics/boot-report.json`). */
  name: z.string(),
  /** Bytes. */
  size: z.number().int().nonnegative(),
  /** When the blob was last written (ISO 8601): when the upload finished. */
  lastModified: z.string(),
  contentType: z.string().optional(),
});
export type DeviceFile = z.infer<typeof DeviceFileSchema>;

export const DeviceFilesResponseSchema = z.object({
  /** In name order, as the storage account lists them. */
  files: z.array(DeviceFileSchema),
  /** There are more: ask again with `continuation` set to this. */
  next: z.string().optional(),
});
export type DeviceFilesResponse = z.infer<typeof DeviceFilesResponseSchema>;

/** C0 controls and DEL: no header, URL or file name should carry them. */
const hasControl = (text: string) =>
  [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/**
 * A file's name under the device's folder. It never leaves the folder: no `.` or `..`
 * segment (a URL resolves them before storage sees the name), no backslash (a URL parser
 * reads it as a slash), no control character.
 */
export const DeviceFileNameSchema = z
  .string()
  .min(1, 'name the file (its name under the device, as listed).')
  .max(BLOB_NAME_MAX, `a blob name is at most ${BLOB_NAME_MAX} characters.`)
  .refine((name) => !hasControl(name), 'a file name has no control characters.')
  .refine((name) => !name.includes('\\'), 'a file name has no backslash.')
  .refine(
    (name) => name.split('/').every((segment) => segment !== '.' && segment !== '..'),
    'a file name has no . or .. segment: it names a file under the device, never elsewhere.',
  );

export const DeviceFileContentQuerySchema = z.object({ name: DeviceFileNameSchema }).strict();
export type DeviceFileContentQuery = z.infer<typeof DeviceFileContentQuerySchema>;
