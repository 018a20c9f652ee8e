import { z } from 'zod';

/** A JSON object as it travels in twins (values are any JSON). */
export const JsonObjectSchema = z.record(z.string(), z.unknown());
export type JsonObjectWire = z.infer<typeof JsonObjectSchema>;
