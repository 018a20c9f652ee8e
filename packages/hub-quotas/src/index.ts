export * from './quotas.ts';
export * from './token-bucket.ts';
