#!/usr/bin/env node
// Azurite's blob service as the emulator's child: `azurite-blob.mjs <parent pid> <azurite args…>`.
// It ends itself when the emulator is gone, however the emulator ended (even SIGKILL), so a
// storage server never outlives the hub it serves.
import { createRequire } from 'node:module';

const parent = Number(process.argv[2]);
process.argv.splice(2, 1);
setInterval(() => {
  try {
    process.kill(parent, 0);
  } catch {
    process.kill(process.pid, 'SIGTERM');
  }
}, 1000).unref();
createRequire(import.meta.url)('azurite/dist/src/blob/main.js');
