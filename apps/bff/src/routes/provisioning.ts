import type { Router } from 'express';
import { z } from 'zod';
import {
  DeviceIdSchema,
  EnrollmentIdSchema,
  EnrollmentInputSchema,
  type EnrollmentKind,
} from '@twinscope/contract';
import { AppError } from '../core/app-error.ts';
import { actorOf } from '../http/authorize.ts';
import { policyRouter } from '../http/policy-router.ts';
import { bodyOf, paramOf, queryOf } from '../http/validate.ts';
import type { ProvisioningService } from '../services/provisioning-service.ts';

const EtagQuerySchema = z.object({ etag: z.string().max(128).optional() }).strict();

/**
 * The Device Provisioning Service: everyone who may read sees enrollments, groups and
 * registrations (never a key); creating, changing and deleting them is for Admins.
 */
export function provisioningRoutes(provisioning: ProvisioningService): Router {
  const routes = policyRouter();
  routes.get('/provisioning', async (_req, res) => {
    res.json(await provisioning.overview());
  });
  for (const [path, kind] of [
    ['groups', 'group'],
    ['enrollments', 'individual'],
  ] as const satisfies readonly (readonly [string, EnrollmentKind])[]) {
    routes.get(`/provisioning/${path}/:id`, async (req, res) => {
      const id = paramOf(req.params, 'id', EnrollmentIdSchema);
      res.json({ enrollment: await provisioning.get(kind, id) });
    });
    routes.get(`/provisioning/${path}/:id/registrations`, async (req, res) => {
      const id = paramOf(req.params, 'id', EnrollmentIdSchema);
      res.json({ items: await provisioning.registrations(kind, id) });
    });
    routes.put(`/provisioning/${path}/:id`, async (req, res) => {
      const input = bodyOf(req.body, EnrollmentInputSchema);
      if (input.id !== req.params['id'] || input.kind !== kind)
        throw new AppError(
          'validation_failed',
          `The body's kind and id must be the path's (${kind} ${String(req.params['id'])}).`,
        );
      const enrollment = await provisioning.save(input, actorOf(res));
      res.status(input.etag === undefined ? 201 : 200).json({ enrollment });
    });
    routes.delete(`/provisioning/${path}/:id`, async (req, res) => {
      const id = paramOf(req.params, 'id', EnrollmentIdSchema);
      const { etag } = queryOf(req.query, EtagQuerySchema);
      await provisioning.remove(kind, id, etag, actorOf(res));
      res.status(204).end();
    });
  }
  routes.delete('/provisioning/registrations/:id', async (req, res) => {
    const id = paramOf(req.params, 'id', EnrollmentIdSchema);
    const { etag } = queryOf(req.query, EtagQuerySchema);
    await provisioning.removeRegistration(id, etag, actorOf(res));
    res.status(204).end();
  });
  routes.get('/devices/:deviceId/provisioning', async (req, res) => {
    res.json(await provisioning.ofDevice(paramOf(req.params, 'deviceId', DeviceIdSchema)));
  });
  return routes.router;
}
