import { existsSync, readFileSync } from 'node:fs';
import { readConnectionFile, type ConnectionFile } from '@twinscope/hub-emulator/connection-file';
import type { z } from 'zod';

/**
 * Reads the files the settings name, once every variable parsed; a missing or malformed one
 * is one more problem on the variable (the settings path) that named it.
 */
export class Files {
  constructor(private readonly ctx: z.RefinementCtx) {}

  problem(path: string[], message: string): void {
    this.ctx.addIssue({ code: 'custom', path, message });
  }

  text(path: string[], file: string | undefined, what = file): string | undefined {
    if (file === undefined) return undefined;
    if (!existsSync(file)) {
      this.problem(path, `${what} does not exist`);
      return undefined;
    }
    return readFileSync(file, 'utf8');
  }

  /** The emulator's connection.json, as the emulator package describes it. */
  connectionFile(file: string | undefined): ConnectionFile | undefined {
    if (file === undefined) return undefined;
    try {
      return readConnectionFile(file);
    } catch (error) {
      this.problem(['hub', 'connectionFile'], (error as Error).message);
      return undefined;
    }
  }
}
