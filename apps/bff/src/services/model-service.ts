import type { PnpModel } from '@twinscope/contract';
import type { HubAdapter } from '../adapters/hub-adapter.ts';
import { AppError } from '../core/app-error.ts';
import type { CallContext } from '../core/call-context.ts';
import type { ModelResolver } from '../pnp/model-repository.ts';

/**
 * A Plug and Play device's (or module's) model: the id its twin holds (what it announced
 * when it connected), resolved from the model repository, parsed and checked.
 */
export class ModelService {
  constructor(
    private readonly hub: Pick<HubAdapter, 'getTwin'>,
    private readonly models: ModelResolver,
  ) {}

  async of(
    deviceId: string,
    moduleId: string | undefined,
    context: CallContext,
  ): Promise<{ modelId: string; repository: string; model: PnpModel }> {
    const twin = await this.hub.getTwin(deviceId, moduleId, context);
    const modelId = (twin as { modelId?: unknown }).modelId;
    if (typeof modelId !== 'string' || modelId === '')
      throw new AppError(
        'model_not_found',
        `${moduleId ?? deviceId} announced no model id: it is not a Plug and Play ${moduleId ? 'module' : 'device'}.`,
      );
    // Its public name: a URL without credentials or query, or "the local model folder".
    const repository = this.models.where ?? 'no model repository';
    return { modelId, repository, model: await this.models.model(modelId) };
  }
}
