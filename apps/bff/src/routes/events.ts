import type { Router } from 'express';
import { policyRouter } from '../http/policy-router.ts';
import {
  TELEMETRY_FILTER_MAX_DEVICES,
  TelemetryWatchRequestSchema,
  WatchRequestSchema,
  type TelemetryWatchResponse,
} from '@twinscope/contract';
import { callOf } from '../http/request-context.ts';
import { authorizeRequest } from '../http/authorize.ts';
import type { DeviceService } from '../services/device-service.ts';
import { AppError } from '../core/app-error.ts';
import { bodyOf } from '../http/validate.ts';
import type { Sessions } from '../http/sessions.ts';
import type { EventBroker } from '../live/broker.ts';

/** Local mode has one operator; with sign-in, each session owns its streams. */
const ownerOf = (sessionId: string | undefined) => sessionId ?? 'local';

export function eventRoutes(
  broker: EventBroker,
  sessions: Sessions | undefined,
  devices: DeviceService,
): Router {
  const routes = policyRouter();
  routes.get('/events', (req, res) => {
    const sessionId = res.locals['sessionId'] as string | undefined;
    broker.open(
      res,
      req.get('last-event-id') ??
        (typeof req.query['lastEventId'] === 'string' ? req.query['lastEventId'] : undefined),
      {
        id: ownerOf(sessionId),
        // A stream outlives the request that opened it: it ends when its session does.
        ...(sessions && sessionId
          ? { session: { id: sessionId, isLive: () => sessions.isLive(sessionId) } }
          : {}),
      },
    );
  });
  routes.post('/events/:streamId/watch', (req, res) => {
    const { twins, audit, fleet, rollouts } = bodyOf(req.body, WatchRequestSchema);
    const owner = ownerOf(res.locals['sessionId'] as string | undefined);
    // The fleet's audit trail, live, as on its page.
    if (audit) authorizeRequest(res, 'audit.read', 'fleet');
    const watching = {
      allActivity: audit === true,
      fleetChanges: fleet === true,
      rollouts: rollouts === true,
    };
    if (!broker.watch(String(req.params['streamId']), twins, owner, watching)) {
      throw new AppError('not_found', 'That live stream has ended; the page will reconnect.');
    }
    res.status(204).end();
  });
  // Which devices' and modules' telemetry the tab shows (anyone who may read may watch):
  // given ones, and every device a list filter matches, resolved now with one query.
  routes.post('/events/:streamId/telemetry', async (req, res) => {
    const { targets, filter } = bodyOf(req.body, TelemetryWatchRequestSchema);
    const owner = ownerOf(res.locals['sessionId'] as string | undefined);
    const matched = filter
      ? await devices.idsMatching(
          { ...filter, tags: filter.tags ?? [] },
          TELEMETRY_FILTER_MAX_DEVICES,
          callOf(res),
        )
      : undefined;
    const all = [
      ...targets,
      ...(matched?.ids ?? []).map((deviceId) => ({ deviceId, modules: true as const })),
    ];
    if (!broker.watchTelemetry(String(req.params['streamId']), all, owner)) {
      throw new AppError('not_found', 'That live stream has ended; the page will reconnect.');
    }
    if (!matched) {
      res.status(204).end();
      return;
    }
    const body: TelemetryWatchResponse = { devices: matched.ids.length, capped: matched.capped };
    res.json(body);
  });
  return routes.router;
}
