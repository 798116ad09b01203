/** `mragw start|serve|work`: runs the gateway until SIGTERM or SIGINT; SIGHUP re-reads the registry. */
import type { Settings } from '../config.ts';
import { tightenHeapDuringLargeApplies } from '../jobs/heap-growth.ts';
import { startGateway, type GatewayRoles } from '../server/gateway.ts';
import { exitCodes, type CommandIo } from './io.ts';

/** Runs the gateway in `roles` with settings loaded for its role (loadSettings checks what serve and work need). */
export async function runGateway(settings: Settings, roles: GatewayRoles, io: CommandIo): Promise<number> {
  // A process of the gateway, not a library in someone else's: it may set V8's flags.
  tightenHeapDuringLargeApplies(settings.HEAP_GROWTH_PERCENT);
  const gateway = await startGateway(settings, roles);
  // Handlers first, then the announcement: whoever waits for it may signal at once.
  const onHup = () => gateway.registry.reload();
  process.on('SIGHUP', onHup);
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  io.stderr.write(gateway.url ? `mra-gateway listening on ${gateway.url} (metrics ${gateway.metricsUrl})\n` : 'mra-gateway workers running\n');
  await stopped;
  process.off('SIGHUP', onHup);
  await gateway.close();
  return exitCodes.ok;
}
