/** `mragw start|serve|work`: runs the gateway until SIGTERM or SIGINT; SIGHUP re-reads the registry. */
import type { Settings } from '../config.ts';
import { checkScaleOut, startGateway, type GatewayRoles } from '../server/gateway.ts';
import { exitCodes, type CommandIo } from './io.ts';

export async function runGateway(settings: Settings, roles: GatewayRoles, io: CommandIo): Promise<number> {
  if (!(roles.api && roles.workers)) checkScaleOut(settings);
  const gateway = await startGateway(settings, roles);
  if (gateway.url) io.stderr.write(`mra-gateway listening on ${gateway.url} (metrics ${gateway.metricsUrl})\n`);
  const onHup = () => gateway.registry.reload();
  process.on('SIGHUP', onHup);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  process.off('SIGHUP', onHup);
  await gateway.close();
  return exitCodes.ok;
}
