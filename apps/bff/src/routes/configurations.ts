import type { Router } from 'express';
import { policyRouter } from '../http/policy-router.ts';
import {
  ConfigurationIdSchema,
  ConfigurationInputSchema,
  ConfigurationPreviewRequestSchema,
} from '@twinscope/contract';
import { AppError } from '../core/app-error.ts';
import { actorOf } from '../http/authorize.ts';
import { callOf } from '../http/request-context.ts';
import { bodyOf, paramOf } from '../http/validate.ts';
import type { ConfigurationService } from '../services/configuration-service.ts';

/**
 * Automatic configurations: anyone who may read sees them and previews a target condition;
 * creating, changing and deleting one (it changes every twin it targets, continuously) is
 * for Admins.
 */
export function configurationRoutes(configurations: ConfigurationService): Router {
  const routes = policyRouter();
  routes.get('/configurations', async (_req, res) => {
    res.json({ items: await configurations.list(callOf(res)) });
  });
  routes.post('/configurations/preview', async (req, res) => {
    const { kind, targetCondition } = bodyOf(req.body, ConfigurationPreviewRequestSchema);
    res.json(await configurations.preview(kind, targetCondition, callOf(res)));
  });
  routes.get('/configurations/:id', async (req, res) => {
    const id = paramOf(req.params, 'id', ConfigurationIdSchema);
    res.json({ configuration: await configurations.get(id, callOf(res)) });
  });
  routes.put('/configurations/:id', async (req, res) => {
    const input = bodyOf(req.body, ConfigurationInputSchema);
    if (input.id !== req.params['id'])
      throw new AppError('validation_failed', 'The id in the body does not match the path.');
    const configuration = await configurations.save(input, actorOf(res), callOf(res));
    res.status(input.etag === undefined ? 201 : 200).json({ configuration });
  });
  routes.delete('/configurations/:id', async (req, res) => {
    await configurations.remove(
      paramOf(req.params, 'id', ConfigurationIdSchema),
      actorOf(res),
      callOf(res),
    );
    res.status(204).end();
  });
  return routes.router;
}
