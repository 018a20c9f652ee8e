import { randomUUID } from 'node:crypto';
import {
  decide,
  emptyDeploymentManifest,
  OPEN_ROUTES,
  policyRoutes,
  POLICY,
  type PolicyAction,
  type Role,
  type RouteKey,
  type TargetKind,
} from '@twinscope/contract';
import { describe, expect, it } from 'vitest';
import { registeredRoutes } from '../http/policy-router.ts';
import type { TestBrowser } from './browser.ts';
import { testPlan } from './fixtures/rollout-plan.ts';
import { useStack } from './harness.ts';

const USERS: { login: string; roles: Role[] }[] = [
  { login: 'norole', roles: [] },
  { login: 'reader', roles: ['Reader'] },
  { login: 'operator', roles: ['Operator'] },
  { login: 'admin', roles: ['Admin'] },
];
const EDGE_DEVICE = 'policy-edge-01';
const DEVICE = 'berlin-b1-meter-03';

/** A route with its parameters filled in for a target of `kind`. */
function pathOf(route: RouteKey, kind: TargetKind): string {
  const path = route.slice(route.indexOf(' ') + 1);
  const systemModule = kind === 'edge-system-module';
  return path
    .replace(':deviceId', systemModule ? EDGE_DEVICE : DEVICE)
    .replace(':moduleId', systemModule ? '$edgeAgent' : 'telemetry')
    .replace(':module', 'sensor')
    .replace(':streamId', 'no-such-stream')
    .replace(':version', '1')
    .replace(':id', route.includes('/rollouts/') ? randomUUID() : 'no-such-configuration');
}

const SHARED_VIEW = '00000000-0000-4000-8000-000000000001';

/**
 * Requests a body-dependent check must refuse, one per `alsoVia` route of the policy: the
 * route's own rule lets the role in, and what the body asks for is refused.
 */
const BODY_CASES: Record<
  string,
  { user: string; method: string; path: string; body: unknown; kind: TargetKind }
> = {
  'audit.read via POST /events/:streamId/watch': {
    user: 'reader',
    method: 'POST',
    path: '/events/no-such-stream/watch',
    body: { twins: [], audit: true },
    kind: 'fleet',
  },
  'twin.write via POST /rollouts': {
    user: 'admin',
    method: 'POST',
    path: '/rollouts',
    body: {
      name: 'pwn every gateway',
      filter: { prefix: 'policy-edge' },
      moduleId: '$edgeAgent',
      change: { desired: { modules: { filter: { settings: { image: 'evil.example/pwn' } } } } },
      plan: testPlan(),
    },
    kind: 'edge-system-module',
  },
  'twin.write via POST /rollouts/dry-run': {
    user: 'operator',
    method: 'POST',
    path: '/rollouts/dry-run',
    body: {
      filter: { prefix: 'policy-edge' },
      moduleId: '$edgeHub',
      change: { desired: { routes: { all: 'FROM /* INTO $upstream' } } },
    },
    kind: 'edge-system-module',
  },
  'method.invoke via POST /rollouts': {
    user: 'reader',
    method: 'POST',
    path: '/rollouts',
    body: {},
    kind: 'fleet',
  },
  'method.invoke via POST /rollouts/dry-run': {
    user: 'reader',
    method: 'POST',
    path: '/rollouts/dry-run',
    body: {},
    kind: 'fleet',
  },
  'view.share via POST /views': {
    user: 'reader',
    method: 'POST',
    path: '/views',
    body: { name: 'everyone sees this', shared: true, view: {} },
    kind: 'fleet',
  },
  // The team's view the test puts in the database first.
  'view.share via DELETE /views/:id': {
    user: 'reader',
    method: 'DELETE',
    path: `/views/${SHARED_VIEW}`,
    body: undefined,
    kind: 'fleet',
  },
  'key.regenerate via PATCH /devices/:deviceId': {
    user: 'operator',
    method: 'PATCH',
    path: `/devices/${DEVICE}`,
    body: { etag: 'x', regenerateKey: 'primary' },
    kind: 'device',
  },
  'key.regenerate via PATCH /devices/:deviceId/modules/:moduleId': {
    user: 'admin',
    method: 'PATCH',
    path: `/devices/${EDGE_DEVICE}/modules/$edgeHub`,
    body: { etag: 'x', regenerateKey: 'secondary' },
    kind: 'edge-system-module',
  },
};

describe('the authorization policy, against the running BFF', () => {
  const stack = useStack({ signIn: true });
  const sessions = new Map<string, { browser: TestBrowser; csrfToken: string }>();
  const as = async (login: string) => {
    let session = sessions.get(login);
    if (!session) sessions.set(login, (session = await stack.signedIn(login)));
    return session;
  };
  /** A request as `login` would make it from the console; a live stream is left at its headers. */
  const call = async (login: string, method: string, path: string, body?: unknown) => {
    const { browser, csrfToken } = await as(login);
    const headers: Record<string, string> = { 'X-CSRF-Token': csrfToken };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (path === '/events') {
      const cookie = [...browser.cookies(stack.bff.url)].map(([n, v]) => `${n}=${v}`).join('; ');
      const stream = new AbortController();
      const response = await fetch(`${stack.bff.url}/api/events`, {
        headers: { cookie },
        signal: stream.signal,
      });
      const json = response.ok ? {} : await response.json();
      stream.abort();
      return { status: response.status, json, headers: response.headers };
    }
    const response = await browser.request(`${stack.bff.url}/api${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, json: response.json, headers: response.headers };
  };
  const refusalsLogged = () =>
    stack.logLines
      .filter((line) => line.includes('security: request refused'))
      .map((line) => JSON.parse(line));

  it('when the BFF starts, then every route it serves has a rule and every rule names a route it serves', async () => {
    await as('reader');
    expect([...registeredRoutes()].sort()).toEqual(
      [...policyRoutes().map((r) => r.route), ...Object.keys(OPEN_ROUTES)].sort(),
    );
    for (const [action, rule] of Object.entries(POLICY))
      for (const grant of Object.values(rule.on))
        if (typeof grant === 'object' && 'only' in grant)
          expect(Object.keys(POLICY), `${action} points at ${grant.only}`).toContain(grant.only);
  });

  it('when each role calls each route on each kind of target it names, then exactly what the policy allows gets past it, and every refusal says why and is logged', async () => {
    expect(
      (await call('admin', 'POST', '/devices', { deviceId: EDGE_DEVICE, iotEdge: true })).status,
    ).toBe(201);
    let checked = 0;
    for (const { route, action, kind } of policyRoutes()) {
      const method = route.slice(0, route.indexOf(' '));
      const kinds: TargetKind[] = route.includes(':moduleId')
        ? ['module', 'edge-system-module']
        : [kind];
      for (const targetKind of kinds)
        for (const user of USERS) {
          const path = pathOf(route, targetKind);
          const answer = await call(user.login, method, path, method === 'GET' ? undefined : {});
          const decision = decide(user.roles, action, targetKind);
          const what = `${user.login} ${method} ${path}`;
          if (decision.allowed) {
            expect(answer.status, what).not.toBe(403);
            expect(answer.json?.message ?? '', what).not.toMatch(/^There is no API/);
          } else {
            expect(answer.status, what).toBe(403);
            expect(answer.json.message, what).toBe(decision.reason);
            const logged = refusalsLogged().find((e) => e.requestId === answer.json.requestId);
            expect(logged, what).toMatchObject({ check: 'policy', why: decision.reason });
          }
          checked++;
        }
    }
    expect(checked).toBeGreaterThan(200);
    // Each check that only the body can trigger has its case, and refuses it.
    await stack.bff.db.query(
      `INSERT INTO saved_views (id, name, owner_id, owner_name, shared, view)
       VALUES ($1, 'The team''s view', 'operator', 'Omar Operator', true, '{}')`,
      [SHARED_VIEW],
    );
    for (const [action, rule] of Object.entries(POLICY) as [
      PolicyAction,
      (typeof POLICY)[PolicyAction],
    ][])
      for (const via of 'alsoVia' in rule ? rule.alsoVia : []) {
        const name = `${action} via ${via}`;
        const sample = BODY_CASES[name];
        expect(sample, `a case for ${name}`).toBeDefined();
        const user = USERS.find((u) => u.login === sample!.user)!;
        const answer = await call(user.login, sample!.method, sample!.path, sample!.body);
        expect(answer.status, name).toBe(403);
        expect(answer.json.message, name).toMatch(/needs the \w+ role|is refused here/);
      }
    expect(stack.bff.security.counted().policy).toBe(refusalsLogged().length);
  });

  it("when an Operator tries to change an IoT Edge deployment through a module twin or a rollout, then every route refuses it, names the route and role that may, and nothing is written; an Admin's deployment still works", async () => {
    expect(
      (await call('admin', 'POST', '/devices', { deviceId: 'lyon-edge-gateway-01', iotEdge: true }))
        .status,
    ).toBe(201);
    const agentTwin = async () =>
      (await stack.registry.getModuleTwin('lyon-edge-gateway-01', '$edgeAgent')).responseBody;
    const before = await agentTwin();
    const evil = {
      modules: {
        filter: {
          type: 'docker',
          status: 'running',
          restartPolicy: 'always',
          settings: {
            image: 'evil.example/pwn:latest',
            createOptions: JSON.stringify({ HostConfig: { Privileged: true } }),
          },
        },
      },
    };
    const twinPath = '/devices/lyon-edge-gateway-01/modules/$edgeAgent/twin';
    const oscars: string[] = [];
    for (const login of ['operator', 'admin']) {
      const patch = await call(login, 'PATCH', twinPath, { etag: before.etag, desired: evil });
      const put = await call(login, 'PUT', twinPath, {
        etag: before.etag,
        tags: {},
        desired: evil,
      });
      for (const refused of [patch, put]) {
        if (login === 'operator') oscars.push(refused.json.requestId);
        expect(refused.status).toBe(403);
        expect(refused.json.message).toContain(
          'PUT /api/devices/:deviceId/edge/modules-content), which needs the Admin role',
        );
      }
    }
    const rollout = await call('operator', 'POST', '/rollouts', {
      ...(BODY_CASES['twin.write via POST /rollouts']!.body as object),
      filter: { prefix: 'lyon-edge' },
    });
    expect(rollout.status).toBe(403);
    expect((await call('operator', 'GET', '/rollouts')).json.items).toEqual([]);
    const after = await agentTwin();
    expect(after.etag).toBe(before.etag);
    expect(JSON.stringify(after.properties.desired)).not.toContain('evil.example');
    // Who tried, what, why and the request id, for each refusal.
    const oscar = refusalsLogged().filter((e) => oscars.includes(e.requestId));
    expect(oscar).toHaveLength(2);
    expect(oscar[0].who).toMatch(/^Oscar Operator \(/);
    expect(oscar[0]).toMatchObject({ check: 'policy', method: 'PATCH', roles: ['Operator'] });
    expect(oscar[0].requestId).toMatch(/^[0-9a-f-]{36}$/);

    const manifest = emptyDeploymentManifest({
      sensor: {
        version: '1.0',
        type: 'docker',
        status: 'running',
        restartPolicy: 'always',
        settings: { image: 'twinscope/module-simulator:latest', createOptions: '{}' },
      },
    });
    const deployed = await call(
      'admin',
      'PUT',
      '/devices/lyon-edge-gateway-01/edge/modules-content',
      manifest,
    );
    expect(deployed.status).toBe(204);
    expect(Object.keys((await agentTwin()).properties.desired.modules)).toEqual(['sensor']);
  });

  it('when a change comes without its CSRF token or from another site, then it is refused, logged with the guard that refused it and counted', async () => {
    const { browser } = await as('operator');
    const before = stack.bff.security.counted();
    const noToken = await browser.request(`${stack.bff.url}/api/devices/${DEVICE}/twin`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    const { csrfToken } = await as('operator');
    const crossSite = await browser.request(`${stack.bff.url}/api/devices/${DEVICE}/twin`, {
      method: 'PATCH',
      headers: {
        'Content-Type': 'application/json',
        'X-CSRF-Token': csrfToken,
        Origin: 'https://evil.example',
      },
      body: '{}',
    });
    expect([noToken.status, crossSite.status]).toEqual([403, 403]);
    expect(stack.bff.security.counted()).toMatchObject({
      csrf: before.csrf + 1,
      origin: before.origin + 1,
    });
    const logged = refusalsLogged();
    expect(logged.find((e) => e.requestId === noToken.json.requestId)).toMatchObject({
      check: 'csrf',
      who: expect.stringContaining('Oscar Operator'),
    });
    expect(logged.find((e) => e.requestId === crossSite.json.requestId)).toMatchObject({
      check: 'origin',
      why: expect.stringContaining('Origin https://evil.example'),
    });
  });
});
