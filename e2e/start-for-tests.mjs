// Starts the stack for Playwright on a fresh emulator data dir.
import { rmSync } from 'node:fs';

rmSync(process.env.TWINSCOPE_EMULATOR_DATA_DIR, { recursive: true, force: true });
await import('../scripts/start-stack.mjs');
