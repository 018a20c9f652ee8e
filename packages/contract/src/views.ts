import { z } from 'zod';
import { PAGE_SIZES } from './devices.ts';

/** A list view as the URL holds it: devices or modules, the filter, the columns, the page size. */
export const ListViewSpecSchema = z
  .object({
    source: z.enum(['devices', 'modules']).default('devices'),
    prefix: z.string().max(128).optional(),
    tags: z.array(z.string().max(256)).max(20).default([]),
    where: z.string().max(4000).optional(),
    columns: z.array(z.string().max(256)).max(20).default([]),
    pageSize: z
      .number()
      .int()
      .refine((n) => (PAGE_SIZES as readonly number[]).includes(n), 'A page size the list offers.')
      .default(100),
  })
  .strict();
export type ListViewSpec = z.infer<typeof ListViewSpecSchema>;

/**
 * A view as stored and as answered: a key a newer replica added is dropped rather than the
 * whole view refused, so an older replica or an open tab keeps it during a rolling deploy.
 */
export const StoredListViewSpecSchema = ListViewSpecSchema.strip();

export const SaveViewRequestSchema = z
  .object({
    name: z.string().trim().min(1, 'Give the view a name.').max(100),
    /** Shared with the team (Operators), or one's own. */
    shared: z.boolean().default(false),
    view: ListViewSpecSchema,
  })
  .strict();
export type SaveViewRequest = z.infer<typeof SaveViewRequestSchema>;

export const SavedViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  shared: z.boolean(),
  owner: z.object({ id: z.string(), name: z.string() }),
  /** Saved by whoever asks (theirs to delete if it is not shared). */
  mine: z.boolean(),
  view: StoredListViewSpecSchema,
  updatedAt: z.string(),
});
export type SavedView = z.infer<typeof SavedViewSchema>;

export const SavedViewListSchema = z.object({ items: z.array(SavedViewSchema) });
