import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PnpModel } from '@twinscope/contract';
import { AppError } from '../core/app-error.ts';
import { DtdlError, modelPath, parseModel } from './dtdl.ts';

/** The largest model file read (Microsoft's repository's are a few KB). */
const MAX_MODEL_BYTES = 1024 * 1024;

/** Where models are read: a folder laid out as Microsoft's repository, or such a repository's URL. */
export interface ModelRepository {
  /** For the logs: the folder or the URL. */
  readonly where: string;
  /** For answers: "the local model folder", or the URL without credentials or query. */
  readonly publicName: string;
  /** A model file's text by its repository path; undefined when the repository has none. */
  read(path: string): Promise<string | undefined>;
}

/** A folder (`dtmi/com/example/thermostat-1.json`): the default, no network at run time. */
export function folderRepository(dir: string): ModelRepository {
  return {
    where: dir,
    publicName: 'the local model folder',
    async read(path) {
      try {
        return await readFile(join(dir, path), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
  };
}

/** A repository over HTTPS (https://devicemodels.azure.com, or a team's own). */
export function urlRepository(base: string, timeoutMs: number): ModelRepository {
  const root = base.replace(/\/+$/, '');
  const shown = new URL(root);
  shown.username = '';
  shown.password = '';
  shown.search = '';
  return {
    where: root,
    publicName: shown.toString().replace(/\/+$/, ''),
    async read(path) {
      const response = await fetch(`${root}/${path}`, { signal: AbortSignal.timeout(timeoutMs) });
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`it answered ${response.status}`);
      const declared = Number(response.headers.get('content-length') ?? 0);
      if (declared > MAX_MODEL_BYTES)
        throw new AppError('model_invalid', `${path} is larger than 1 MB.`);
      return response.text();
    },
  };
}

/** The models beside the built console, or the module simulator's in the source tree. */
export function defaultModelFolder(): string | undefined {
  const candidates = [
    fileURLToPath(new URL('./models/', import.meta.url)),
    fileURLToPath(new URL('../../../../packages/module-simulator/models/', import.meta.url)),
  ];
  return candidates.find((dir) => existsSync(dir));
}

/**
 * Resolves a device's model id to its parsed model: the root interface and each component's,
 * read from the repository (an expanded file's array is searched for the id), checked, and
 * kept for ten minutes. A missing or invalid model is a clear error, never a half model.
 */
export class ModelResolver {
  private readonly cache = new Map<string, { at: number; model: Promise<PnpModel> }>();

  constructor(
    private readonly repository: ModelRepository | undefined,
    private readonly ttlMs = 10 * 60_000,
  ) {}

  /** Where models come from, as an answer may say it (never a server path). */
  get where(): string | undefined {
    return this.repository?.publicName;
  }

  async model(modelId: string): Promise<PnpModel> {
    const cached = this.cache.get(modelId);
    if (cached && Date.now() - cached.at < this.ttlMs) return cached.model;
    const model = this.resolve(modelId);
    if (this.cache.size > 500) this.cache.clear();
    this.cache.set(modelId, { at: Date.now(), model });
    model.catch(() => this.cache.delete(modelId));
    return model;
  }

  private async resolve(modelId: string): Promise<PnpModel> {
    const repository = this.repository;
    if (!repository)
      throw new AppError(
        'model_not_found',
        `No model repository is configured, so ${modelId} cannot be shown as Plug and Play (set TWINSCOPE_MODEL_REPOSITORY).`,
      );
    try {
      return await parseModel(modelId, async (id) => {
        let path: string;
        try {
          path = modelPath(id);
        } catch {
          throw new AppError('model_invalid', `"${id}" is not a valid model id (DTMI).`);
        }
        let body: string | undefined;
        try {
          body = await repository.read(path);
        } catch (error) {
          if (error instanceof AppError) throw error;
          // A folder's error names its path: the answer says which repository, not where.
          const why = /^https?:/.test(repository.where) ? `: ${(error as Error).message}` : '';
          throw new AppError(
            'model_repository_unavailable',
            `The model repository (${repository.publicName}) could not be read${why}.`,
          );
        }
        if (body === undefined)
          throw new AppError(
            'model_not_found',
            `The model repository (${repository.publicName}) has no ${id} (looked for ${path}).`,
          );
        if (body.length > MAX_MODEL_BYTES)
          throw new AppError('model_invalid', `${path} is larger than 1 MB.`);
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          throw new AppError('model_invalid', `${path} is not JSON.`);
        }
        const found = Array.isArray(json)
          ? json.find((entry) => (entry as { '@id'?: unknown })?.['@id'] === id)
          : json;
        if (typeof found !== 'object' || found === null)
          throw new AppError('model_invalid', `${path} does not hold ${id}.`);
        return found as Record<string, unknown>;
      });
    } catch (error) {
      if (error instanceof DtdlError)
        throw new AppError('model_invalid', error.message, {
          violations: error.problems.map((message) => ({ path: error.modelId, message })),
        });
      throw error;
    }
  }
}
