import type { Router } from 'express';
import { policyRouter } from '../http/policy-router.ts';
import {
  CloudMessageSendRequestSchema,
  DeviceIdSchema,
  type SentMessagesResponse,
} from '@twinscope/contract';
import { actorOf } from '../http/authorize.ts';
import { callOf } from '../http/request-context.ts';
import { bodyOf, paramOf } from '../http/validate.ts';
import type { MessageService } from '../services/message-service.ts';

/** Cloud-to-device messages: sending is the Operator's, purging the Admin's. */
export function messageRoutes(messages: MessageService): Router {
  const routes = policyRouter();
  const deviceId = (params: Record<string, unknown>) => paramOf(params, 'deviceId', DeviceIdSchema);
  routes.post('/devices/:deviceId/messages', async (req, res) => {
    res
      .status(201)
      .json(
        await messages.send(
          deviceId(req.params),
          bodyOf(req.body, CloudMessageSendRequestSchema),
          actorOf(res),
          callOf(res),
        ),
      );
  });
  routes.get('/devices/:deviceId/messages', async (req, res) => {
    const id = deviceId(req.params);
    const body: SentMessagesResponse = {
      queued: await messages.queued(id, callOf(res)),
      messages: await messages.recent(id),
      feedback: messages.feedbackOn,
    };
    res.json(body);
  });
  routes.delete('/devices/:deviceId/messages', async (req, res) => {
    res.json({
      purged: await messages.purge(deviceId(req.params), actorOf(res), callOf(res)),
    });
  });
  return routes.router;
}
