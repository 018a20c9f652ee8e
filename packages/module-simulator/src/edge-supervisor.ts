// The simulated runtime's module supervisor: each module of the deployment runs as the
// how-to's module app with its own identity, exits as its image would (SIMULATOR_EXIT_CODE),
// and is restarted as its restartPolicy says, with back-off doubling up to a ceiling.
import type { ModuleLog, LogLevel } from './edge-logs.ts';
import { envOf, type ModuleSpec, type ModuleState } from './edge-deployment.ts';
import type { RunningModule } from './module-app.ts';

/** A deployment's module as the runtime runs it. */
export interface Supervised {
  name: string;
  spec: ModuleSpec;
  state: ModuleState;
  app?: RunningModule;
  timer?: NodeJS.Timeout;
  /** Bumped whenever what is running is torn down, so a late start or exit is ignored. */
  generation: number;
  failures: number;
}

export interface SupervisorOptions {
  /** Each module's log, by name (`GetModuleLogs` reads them). */
  logs: Map<string, ModuleLog>;
  agentLog: (text: string, level?: LogLevel) => void;
  backoff: { firstSeconds: number; maxSeconds: number };
  /** Starts a module's app (its identity keyed first), writing its lines to `log`. */
  run: (moduleId: string, log: (line: string) => void) => Promise<RunningModule>;
  /** A module's state changed: the agent reports it. */
  changed: () => void;
  /** The runtime is stopping: nothing restarts. */
  stopped: () => boolean;
}

const now = () => new Date().toISOString();

/** Starting and stopping a module's app, as `apply`, `RestartModule` and stopping need. */
export function moduleSupervisor({
  logs,
  agentLog,
  backoff,
  run,
  changed,
  stopped,
}: SupervisorOptions) {
  const stopApp = async (module: Supervised) => {
    module.generation++;
    clearTimeout(module.timer);
    module.timer = undefined;
    const app = module.app;
    module.app = undefined;
    await app?.stop().catch(() => undefined);
  };

  const exited = (module: Supervised, code: number, why: string) => {
    const log = logs.get(module.name)!;
    log.write(why, 3);
    agentLog(`Module ${module.name} exited with code ${code}`, 3);
    module.state.exitCode = code;
    module.state.lastExitTimeUtc = now();
    const policy = String(module.spec['restartPolicy'] ?? 'always');
    const restarts = policy === 'always' || (policy !== 'never' && code !== 0);
    if (!restarts) {
      module.state.runtimeStatus = code === 0 ? 'stopped' : 'failed';
      module.state.statusDescription = `Module exited with code ${code} and its restartPolicy is ${policy}: ${why}`;
      changed();
      return;
    }
    const wait = Math.min(
      backoff.maxSeconds,
      backoff.firstSeconds * 2 ** Math.min(module.failures, 16),
    );
    module.failures++;
    module.state.runtimeStatus = 'backoff';
    module.state.statusDescription = `Module exited with code ${code} (${why}); restarting in ${wait} s.`;
    const generation = module.generation;
    module.timer = setTimeout(() => {
      if (module.generation !== generation || stopped()) return;
      module.state.restartCount++;
      module.state.lastRestartTimeUtc = now();
      void startApp(module);
    }, wait * 1000);
    changed();
  };

  const startApp = async (module: Supervised) => {
    const generation = ++module.generation;
    const log = logs.get(module.name)!;
    if (module.spec['status'] === 'stopped') {
      module.state.runtimeStatus = 'stopped';
      module.state.statusDescription = 'Stopped by the deployment (status: stopped).';
      changed();
      return;
    }
    const image = module.spec.settings.image;
    log.write(`Starting ${module.name} from image ${image}`);
    try {
      const app = await run(module.name, (line) => log.write(line.replace(/^\[[^\]]*\] /, '')));
      if (module.generation !== generation) {
        await app.stop().catch(() => undefined);
        return;
      }
      module.app = app;
    } catch (error) {
      if (module.generation !== generation) return;
      exited(
        module,
        1,
        `could not start: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    module.state.runtimeStatus = 'running';
    module.state.statusDescription = 'running';
    module.state.lastStartTimeUtc = now();
    agentLog(`Module ${module.name} is running (image ${image})`);
    changed();
    const exitCode = envOf(module.spec, 'SIMULATOR_EXIT_CODE');
    if (exitCode !== undefined) {
      const after = Number(envOf(module.spec, 'SIMULATOR_EXIT_AFTER_SECONDS') ?? 3);
      module.timer = setTimeout(
        () => {
          if (module.generation !== generation || stopped()) return;
          const app = module.app;
          module.app = undefined;
          void app?.stop().catch(() => undefined);
          const code = Number.isInteger(Number(exitCode)) ? Number(exitCode) : 1;
          exited(
            module,
            code,
            `fatal: the image ${image} exits with code ${code} (SIMULATOR_EXIT_CODE)`,
          );
        },
        Math.max(0, Number.isFinite(after) ? after : 3) * 1000,
      );
    }
  };

  return { startApp, stopApp };
}
