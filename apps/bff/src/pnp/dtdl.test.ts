import { describe, expect, it } from 'vitest';
import { AppError } from '../core/app-error.ts';
import { modelPath } from './dtdl.ts';
import {
  defaultModelFolder,
  folderRepository,
  ModelResolver,
  urlRepository,
  type ModelRepository,
} from './model-repository.ts';

/** A repository of the files given, by path. */
const filesRepository = (files: Record<string, unknown>): ModelRepository => ({
  where: 'test files',
  publicName: 'test files',
  read: async (path) => (path in files ? JSON.stringify(files[path]) : undefined),
});

describe('Plug and Play models from a repository', () => {
  it('a DTMI maps to its path as Microsoft’s repository lays it out', () => {
    expect(modelPath('dtmi:com:Example:Thermostat;1')).toBe('dtmi/com/example/thermostat-1.json');
    expect(() => modelPath('dtmi:com:example:Thermostat')).toThrow(/not a DTMI/);
  });

  it('the demo temperature controller (DTDL v3) resolves with its own commands and two thermostat components, units and writable properties included', async () => {
    const resolver = new ModelResolver(folderRepository(defaultModelFolder()!));
    const model = await resolver.model('dtmi:twinscope:demo:TemperatureController;1');
    expect(model.dtdlVersion).toBe(3);
    expect(model.root.commands.map((c) => c.name)).toContain('reboot');
    expect(model.components.map((c) => [c.name, c.interface.id])).toEqual([
      ['thermostat1', 'dtmi:twinscope:demo:Thermostat;1'],
      ['thermostat2', 'dtmi:twinscope:demo:Thermostat;1'],
      ['deviceInformation', 'dtmi:twinscope:demo:DeviceInformation;1'],
    ]);
    const thermostat = model.components[0]!.interface;
    expect(thermostat.telemetry[0]).toMatchObject({ name: 'temperature', unit: 'degreeCelsius' });
    expect(thermostat.properties.find((p) => p.name === 'targetTemperature')).toMatchObject({
      writable: true,
      schema: { type: 'primitive', name: 'double' },
    });
    expect(thermostat.commands[0]!.request).toMatchObject({
      name: 'since',
      schema: { type: 'primitive', name: 'dateTime' },
    });
  });

  it('a DTDL v2 model in an expanded file (an array) is found by its id; its Object and Enum schemas are read', async () => {
    const resolver = new ModelResolver(
      filesRepository({
        'dtmi/com/example/sensor-2.json': [
          // An expanded file holds the interfaces the model uses; the asked one is not first.
          {
            '@context': 'dtmi:dtdl:context;2',
            '@id': 'dtmi:com:example:SensorPart;1',
            '@type': 'Interface',
            contents: [],
          },
          {
            '@context': 'dtmi:dtdl:context;2',
            '@id': 'dtmi:com:example:Sensor;2',
            '@type': 'Interface',
            displayName: { en: 'Sensor' },
            contents: [
              {
                '@type': 'Property',
                name: 'mode',
                writable: true,
                schema: {
                  '@type': 'Enum',
                  valueSchema: 'integer',
                  enumValues: [
                    { name: 'off', enumValue: 0 },
                    { name: 'on', enumValue: 1 },
                  ],
                },
              },
              {
                '@type': 'Telemetry',
                name: 'position',
                schema: {
                  '@type': 'Object',
                  fields: [
                    { name: 'x', schema: 'double' },
                    { name: 'y', schema: 'double' },
                  ],
                },
              },
            ],
          },
        ],
      }),
    );
    const model = await resolver.model('dtmi:com:example:Sensor;2');
    expect(model).toMatchObject({ dtdlVersion: 2, root: { displayName: 'Sensor' } });
    expect(model.root.properties[0]!.schema).toEqual({
      type: 'enum',
      valueSchema: 'integer',
      values: [
        { name: 'off', value: 0 },
        { name: 'on', value: 1 },
      ],
    });
    expect(model.root.telemetry[0]!.schema).toMatchObject({ type: 'object' });
  });

  it('an interface that extends another (by DTMI or inline) has the inherited contents first, then its own', async () => {
    const resolver = new ModelResolver(
      filesRepository({
        'dtmi/com/example/base-1.json': {
          '@context': 'dtmi:dtdl:context;3',
          '@id': 'dtmi:com:example:Base;1',
          '@type': 'Interface',
          contents: [{ '@type': 'Property', name: 'serialNumber', schema: 'string' }],
        },
        'dtmi/com/example/pump-1.json': {
          '@context': 'dtmi:dtdl:context;3',
          '@id': 'dtmi:com:example:Pump;1',
          '@type': 'Interface',
          extends: [
            'dtmi:com:example:Base;1',
            {
              '@id': 'dtmi:com:example:Pump:rated;1',
              '@type': 'Interface',
              contents: [
                { '@type': 'Telemetry', name: 'flow', schema: 'double', unit: 'litrePerSecond' },
              ],
            },
          ],
          contents: [
            { '@type': 'Command', name: 'stop' },
            { '@type': 'Property', name: 'speed', schema: 'double' },
          ],
        },
      }),
    );
    const { root } = await resolver.model('dtmi:com:example:Pump;1');
    expect(root.properties.map((p) => p.name)).toEqual(['serialNumber', 'speed']);
    expect(root.telemetry.map((t) => t.name)).toEqual(['flow']);
    expect(root.commands.map((c) => c.name)).toEqual(['stop']);
  });

  it('a schema an interface lists under schemas (its own, a parent’s or a component’s) is used by its @id; one nobody lists, or one that refers to itself, is refused', async () => {
    const mode = {
      '@id': 'dtmi:com:example:Base:mode;1',
      '@type': 'Enum',
      valueSchema: 'integer',
      enumValues: [
        { name: 'off', enumValue: 0 },
        { name: 'eco', enumValue: 1 },
      ],
    };
    const reading = {
      '@id': 'dtmi:com:example:Meter:reading;1',
      '@type': 'Object',
      fields: [
        { name: 'value', schema: 'double' },
        { name: 'mode', schema: 'dtmi:com:example:Base:mode;1' },
      ],
    };
    const files = {
      'dtmi/com/example/base-1.json': {
        '@context': 'dtmi:dtdl:context;2',
        '@id': 'dtmi:com:example:Base;1',
        '@type': 'Interface',
        schemas: [mode],
      },
      'dtmi/com/example/meter-1.json': {
        '@context': 'dtmi:dtdl:context;2',
        '@id': 'dtmi:com:example:Meter;1',
        '@type': 'Interface',
        extends: 'dtmi:com:example:Base;1',
        contents: [
          { '@type': 'Telemetry', name: 'reading', schema: 'dtmi:com:example:Meter:reading;1' },
          {
            '@type': 'Property',
            name: 'targetMode',
            writable: true,
            schema: 'dtmi:com:example:Base:mode;1',
          },
          { '@type': 'Component', name: 'spare', schema: 'dtmi:com:example:Spare;1' },
        ],
      },
      'dtmi/com/example/spare-1.json': {
        '@context': 'dtmi:dtdl:context;2',
        '@id': 'dtmi:com:example:Spare;1',
        '@type': 'Interface',
        // Listed by the component's interface, used by the root's telemetry too.
        schemas: [reading],
        contents: [
          { '@type': 'Property', name: 'last', schema: 'dtmi:com:example:Meter:reading;1' },
        ],
      },
    };
    const model = await new ModelResolver(filesRepository(files)).model('dtmi:com:example:Meter;1');
    const modeSchema = {
      type: 'enum',
      valueSchema: 'integer',
      values: [
        { name: 'off', value: 0 },
        { name: 'eco', value: 1 },
      ],
    };
    expect(model.root.telemetry[0]!.schema).toEqual({
      type: 'object',
      fields: [
        { name: 'value', schema: { type: 'primitive', name: 'double' } },
        { name: 'mode', schema: modeSchema },
      ],
    });
    expect(model.root.properties[0]).toMatchObject({ writable: true, schema: modeSchema });
    expect(model.components[0]!.interface.properties[0]!.schema).toMatchObject({ type: 'object' });

    const broken = new ModelResolver(
      filesRepository({
        'dtmi/com/example/loop-1.json': {
          '@context': 'dtmi:dtdl:context;3',
          '@id': 'dtmi:com:example:Loop;1',
          '@type': 'Interface',
          schemas: [
            {
              '@id': 'dtmi:com:example:Loop:node;1',
              '@type': 'Object',
              fields: [{ name: 'next', schema: 'dtmi:com:example:Loop:node;1' }],
            },
          ],
          contents: [
            { '@type': 'Telemetry', name: 'chain', schema: 'dtmi:com:example:Loop:node;1' },
            { '@type': 'Telemetry', name: 'other', schema: 'dtmi:com:example:Elsewhere;1' },
          ],
        },
      }),
    );
    const error = await broken.model('dtmi:com:example:Loop;1').catch((e: AppError) => e);
    expect((error as AppError).code).toBe('model_invalid');
    expect((error as AppError).extras.violations!.map((v) => v.message)).toEqual([
      expect.stringMatching(/^contents\[0\]\.schema(\.fields\[0\]\.schema)+ .*refers to itself$/),
      'contents[1].schema "dtmi:com:example:Elsewhere;1" is no schema the model’s interfaces list under schemas',
    ]);
  });

  it('reusable schemas nest as deep as DTDL allows; one that would expand a few KB of model into millions of parts is refused, not expanded', async () => {
    const level = (i: number, fields: number, last: number) => ({
      '@id': `dtmi:com:example:Deep:level${i};1`,
      '@type': 'Object',
      fields: Array.from({ length: fields }, (_, f) => ({
        name: `f${f}`,
        schema: i === last ? 'double' : `dtmi:com:example:Deep:level${i + 1};1`,
      })),
    });
    const model = (levels: number, fields: number) => ({
      'dtmi/com/example/deep-1.json': {
        '@context': 'dtmi:dtdl:context;3',
        '@id': 'dtmi:com:example:Deep;1',
        '@type': 'Interface',
        schemas: Array.from({ length: levels }, (_, i) => level(i, fields, levels - 1)),
        contents: [
          { '@type': 'Telemetry', name: 'tree', schema: 'dtmi:com:example:Deep:level0;1' },
        ],
      },
    });
    // Eight Objects, each holding the next: DTDL's eight levels, read whole.
    const { root } = await new ModelResolver(filesRepository(model(8, 1))).model(
      'dtmi:com:example:Deep;1',
    );
    let schema = root.telemetry[0]!.schema;
    for (let i = 0; i < 8; i++) {
      expect(schema.type).toBe('object');
      schema = (schema as { fields: { schema: typeof schema }[] }).fields[0]!.schema;
    }
    expect(schema).toEqual({ type: 'primitive', name: 'double' });
    // A ninth is one too many.
    const deeper = await new ModelResolver(filesRepository(model(9, 1)))
      .model('dtmi:com:example:Deep;1')
      .catch((e: AppError) => e);
    expect((deeper as AppError).extras.violations!.map((v) => v.message)).toEqual([
      expect.stringMatching(/nests deeper than DTDL allows \(8\)$/),
    ]);

    // Eight levels of ten fields each: 10^8 leaves from under 10 KB of JSON.
    const error = await new ModelResolver(filesRepository(model(8, 10)))
      .model('dtmi:com:example:Deep;1')
      .catch((e: AppError) => e);
    expect((error as AppError).code).toBe('model_invalid');
    expect((error as AppError).extras.violations!.map((v) => v.message)).toEqual([
      expect.stringMatching(/expand to more than 20000 parts/),
    ]);
  });

  it('an invalid model is refused with where and why, a missing one says where it was looked for, and nothing half-read is shown', async () => {
    const resolver = new ModelResolver(
      filesRepository({
        'dtmi/com/example/broken-1.json': {
          '@context': 'dtmi:dtdl:context;2',
          '@id': 'dtmi:com:example:Broken;1',
          '@type': 'Interface',
          contents: [
            { '@type': 'Telemetry', name: 'temp', schema: 'celsius' },
            { '@type': 'Property', name: 'temp', schema: 'double' },
            { '@type': 'Component', name: 'part', schema: 'dtmi:com:example:Missing;1' },
          ],
        },
      }),
    );
    const error = await resolver.model('dtmi:com:example:Broken;1').catch((e: AppError) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('model_invalid');
    expect((error as AppError).extras.violations!.map((v) => v.message)).toEqual([
      'contents[0].schema "celsius" is not a DTDL schema',
      'contents[1].name "temp" is used twice',
      expect.stringMatching(
        /^contents\[2\]\.schema dtmi:com:example:Missing;1: .*has no dtmi:com:example:Missing;1 \(looked for dtmi\/com\/example\/missing-1\.json\)/,
      ),
    ]);
    const missing = await resolver.model('dtmi:com:example:Nowhere;1').catch((e: AppError) => e);
    expect((missing as AppError).code).toBe('model_not_found');
  });
});

describe('a model repository over HTTP', () => {
  it('reads models by their repository path, says which are missing, and a repository that fails is named, not blamed on the model', async () => {
    const { createServer } = await import('node:http');
    const thermostat = JSON.stringify({
      '@context': 'dtmi:dtdl:context;3',
      '@id': 'dtmi:com:example:Thermostat;1',
      '@type': 'Interface',
      contents: [{ '@type': 'Telemetry', name: 'temperature', schema: 'double' }],
    });
    const asked: string[] = [];
    const server = createServer((request, response) => {
      asked.push(request.url ?? '');
      if (request.url === '/models/dtmi/com/example/thermostat-1.json')
        response.writeHead(200, { 'content-type': 'application/json' }).end(thermostat);
      else if (request.url?.includes('broken')) response.writeHead(500).end();
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const resolver = new ModelResolver(urlRepository(`http://127.0.0.1:${port}/models/`, 2000));
      const model = await resolver.model('dtmi:com:example:Thermostat;1');
      expect(model.root.telemetry[0]!.name).toBe('temperature');
      expect(asked).toEqual(['/models/dtmi/com/example/thermostat-1.json']);
      const missing = await resolver.model('dtmi:com:example:Nowhere;1').catch((e: AppError) => e);
      expect(missing).toMatchObject({ code: 'model_not_found' });
      expect((missing as AppError).message).toContain(`http://127.0.0.1:${port}/models`);
      const failing = await resolver.model('dtmi:com:example:Broken;1').catch((e: AppError) => e);
      expect(failing).toMatchObject({ code: 'model_repository_unavailable' });
      expect((failing as AppError).message).toMatch(/answered 500/);
    } finally {
      server.close();
    }
  });
});
