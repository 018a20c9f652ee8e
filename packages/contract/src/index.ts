export * from './json.ts';
export * from './ids.ts';
export * from './twin.ts';
export * from './devices.ts';
export * from './errors.ts';
export * from './events.ts';
export * from './me.ts';
export * from './modules.ts';
