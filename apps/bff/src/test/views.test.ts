import { describe, expect, it } from 'vitest';
import { useStack } from './harness.ts';

describe('saved list views and the module list, signed in', () => {
  const stack = useStack({ signIn: true });

  /** A person's calls, JSON in and out, with their session's CSRF token. */
  const as = async (user: string) => {
    const { browser, csrfToken } = await stack.signedIn(user);
    return (path: string, method = 'GET', body?: unknown) =>
      browser.request(`${stack.bff.url}${path}`, {
        method,
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
  };
  const lyonControllers = {
    source: 'modules',
    tags: [],
    where: "moduleId = 'controller' AND deviceId >= 'lyon' AND deviceId < 'lyoo'",
    columns: ['mode'],
    pageSize: 50,
  };

  it('when a Reader saves a view it is theirs alone; sharing needs an Operator, is audited, and the team sees it; nobody sees or deletes another’s own', async () => {
    const reader = await as('reader');
    const operator = await as('operator');

    const own = await reader('/api/views', 'POST', {
      name: 'Lyon controllers',
      view: lyonControllers,
    });
    expect(own.status).toBe(201);
    expect(own.json.view).toMatchObject({ name: 'Lyon controllers', shared: false, mine: true });
    // Saving under the same name replaces it.
    const again = await reader('/api/views', 'POST', {
      name: 'lyon controllers',
      view: { ...lyonControllers, pageSize: 100 },
    });
    expect(again.json.view.id).toBe(own.json.view.id);
    expect(again.json.view.view.pageSize).toBe(100);

    const refused = await reader('/api/views', 'POST', {
      name: 'Team view',
      shared: true,
      view: lyonControllers,
    });
    expect(refused.status).toBe(403);
    expect(refused.json.message).toMatch(/needs the Operator role/);

    const shared = await operator('/api/views', 'POST', {
      name: 'Eco HVAC controllers',
      shared: true,
      view: { ...lyonControllers, where: "properties.reported.mode = 'eco'" },
    });
    expect(shared.status).toBe(201);

    const readerSees = (await reader('/api/views')).json.items.map(
      (v: { name: string; shared: boolean }) => [v.name, v.shared],
    );
    expect(readerSees).toEqual([
      ['Eco HVAC controllers', true],
      ['lyon controllers', false],
    ]);
    const operatorSees = (await operator('/api/views')).json.items.map(
      (v: { name: string }) => v.name,
    );
    expect(operatorSees).toEqual(['Eco HVAC controllers']);
    // Another's own view is not there for them, not even to delete.
    expect((await operator(`/api/views/${own.json.view.id}`, 'DELETE')).status).toBe(404);
    // A shared view is the team's: a Reader may not delete it; an Operator may, audited.
    expect((await reader(`/api/views/${shared.json.view.id}`, 'DELETE')).status).toBe(403);
    expect((await operator(`/api/views/${shared.json.view.id}`, 'DELETE')).status).toBe(204);
    expect((await reader(`/api/views/${own.json.view.id}`, 'DELETE')).status).toBe(204);
    expect((await reader('/api/views')).json.items).toEqual([]);

    const audit = (await operator('/api/audit?kind=fleet')).json.entries.map(
      (e: { action: string; change: { name: string } }) => [e.action, e.change.name],
    );
    expect(audit.slice(0, 2)).toEqual([
      ['fleet.view-delete', 'Eco HVAC controllers'],
      ['fleet.view-share', 'Eco HVAC controllers'],
    ]);

    // A view that is not one the list can show is refused whole.
    const bad = await reader('/api/views', 'POST', {
      name: 'x',
      view: { ...lyonControllers, pageSize: 7, source: 'jobs' },
    });
    expect(bad.status).toBe(400);
  });

  it('when the list shows modules, then module twins are filtered by their own properties, each with its device, and counted', async () => {
    const reader = await as('reader');
    const eco = await reader(
      `/api/modules?pageSize=50&where=${encodeURIComponent("moduleId = 'controller' AND properties.reported.mode = 'eco'")}`,
    );
    expect(eco.status).toBe(200);
    expect(eco.json.query).toBe(
      "SELECT * FROM devices.modules WHERE (moduleId = 'controller' AND properties.reported.mode = 'eco')",
    );
    const rows = eco.json.items.map(
      (m: { deviceId: string; moduleId: string }) => `${m.deviceId}/${m.moduleId}`,
    );
    // The seeded HVAC devices' controllers report eco; the gateways' report forward.
    expect(rows.sort()).toEqual([
      'berlin-b1-hvac-02/controller',
      'berlin-b2-hvac-04/controller',
      'lyon-south-hvac-09/controller',
      'toronto-hq-hvac-12/controller',
    ]);
    expect(eco.json.totalCount).toBe(4);
    expect(eco.json.items[0].reported.mode).toBe('eco');
    // A prefix narrows by device id, as on the device list.
    const berlin = await reader('/api/modules?prefix=berlin-b1&pageSize=100');
    expect(new Set(berlin.json.items.map((m: { deviceId: string }) => m.deviceId))).toEqual(
      new Set(['berlin-b1-gateway-01', 'berlin-b1-hvac-02', 'berlin-b1-meter-03']),
    );
  });
});
