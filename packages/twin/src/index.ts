export * from './json.ts';
export * from './rules.ts';
export * from './patch.ts';
export * from './metadata.ts';
export * from './ids.ts';
export * from './json-guard.ts';
