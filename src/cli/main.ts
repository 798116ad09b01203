/**
 * The `mragw` command line. Each command is a module of its own; this file only wires
 * them to commander and turns wrong usage into exit status 64.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadSettings, type GatewayRole } from '../config.ts';
import { loadFormats } from '../translate/load-mappings.ts';
import { exitCodes, exitStatusOf, type CommandIo } from './io.ts';
import { keysGenerate, sendCommand, signCommand, verifyReceiptCommand } from './partner-commands.ts';
import { demoCommand } from './demo-command.ts';
import { inboxCommand } from './inbox-command.ts';
import { runGateway } from './run-gateway.ts';
import { ctpatImportSummary, staffRequest } from './staff-commands.ts';
import { staffTokenCommand, statusCommand, verifyStatusCommand } from './status-commands.ts';
import { translateCommand } from './translate-command.ts';

const positiveInteger = (value: string): number => {
  if (!/^[1-9]\d{0,15}$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('must be a whole number from 1 to 2^53-1');
  return Number(value);
};

/** Runs the command line with `argv` (without node and script); resolves to the exit status. */
export async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  let status: number = exitCodes.ok;
  // Read when a command needs them; a gateway role adds its own rules (serve and work need a shared store and key).
  const settings = (role?: GatewayRole) => loadSettings(io.env, role);
  const program = new Command('mragw')
    .description('mra-gateway: exchange of trusted-trader certification records under Mutual Recognition Arrangements')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(mragw --help for usage)');

  program
    .command('translate')
    .description('translate a document between a partner format, ctpat and canonical (FORMATS.md "Command line")')
    .requiredOption('--from <format>', 'format of the input: a partner format, ctpat or canonical')
    .requiredOption('--to <format>', 'format of the output: a partner format, ctpat or canonical')
    .option('--sequence <n>', 'outbound sequence when writing C-TPAT members to a partner format', positiveInteger, 1)
    .option('--batch-id <id>', 'batch id when writing C-TPAT members (default: generated)')
    .addOption(new Option('--max-bytes <n>', 'refuse an input larger than this').argParser(positiveInteger).default(64 * 1024 * 1024))
    .argument('[file]', 'input file (default: standard input)')
    .action(async (file: string | undefined, options: { from: string; to: string; sequence: number; batchId?: string; maxBytes: number }) => {
      status = await translateCommand(loadFormats(), { ...options, file, gatewayId: settings().GATEWAY_ID }, io);
    });

  program
    .command('demo')
    .description('start the gateway on embedded defaults, send each shipped partner\'s sample document to it signed with its development key, and deliver the C-TPAT sample to each partner\'s reference inbox')
    .option('--dev-keys <dir>', 'partners\' development keys', 'config/dev-keys')
    .option('--fixtures <dir>', 'sample documents, fixtures/<format>/sample', 'fixtures')
    .action(async (options: { devKeys: string; fixtures: string }) => {
      status = await demoCommand(settings(), { devKeysDir: options.devKeys, fixturesDir: options.fixtures }, io);
    });

  program
    .command('start')
    .description('the whole gateway in one process (HTTP API and workers), on embedded defaults (npm start)')
    .action(async () => {
      status = await runGateway(settings('start'), { api: true, workers: true }, io);
    });
  program
    .command('serve')
    .description('the HTTP API only; needs DATABASE_URL and a shared signing key')
    .action(async () => {
      status = await runGateway(settings('serve'), { api: true, workers: false }, io);
    });
  program
    .command('work')
    .description('the workers only; needs DATABASE_URL and a shared signing key')
    .action(async () => {
      status = await runGateway(settings('work'), { api: false, workers: true }, io);
    });

  const keys = program.command('keys').description("a partner's request-signing keys");
  keys
    .command('generate')
    .description('generate a key pair: the private JWK stays with you, the public JWKS goes to the gateway operator')
    .addOption(new Option('--alg <alg>', 'signing algorithm').choices(['ES256', 'ES384', 'EdDSA', 'PS256']).default('ES256'))
    .option('--kid <kid>', 'key id (default: the RFC 7638 thumbprint)')
    .option('--out <dir>', 'where to write the two files', '.')
    .action(async (options: { alg: 'ES256' | 'ES384' | 'EdDSA' | 'PS256'; kid?: string; out: string }) => {
      status = await keysGenerate(options, io);
    });

  program
    .command('sign')
    .description('print the JWS-Signature header for a document, as a partner signs it (PROTOCOL §2)')
    .requiredOption('--key <file>', 'private key (JWK or PKCS#8 PEM)')
    .requiredOption('--iss <id>', 'your party id')
    .option('--aud <id>', 'the receiver (default: GATEWAY_ID)')
    .option('--method <method>', 'HTTP method', 'POST')
    .option('--target <path>', 'request-target, path and query', '/v1/exchanges')
    .option('--content-type <type>', 'media type of the body, signed as cty')
    .argument('[file]', 'the body (default: standard input)')
    .action(async (file: string | undefined, options: { key: string; iss: string; aud?: string; method: string; target: string; contentType?: string }) => {
      status = await signCommand({ ...options, aud: options.aud ?? settings().GATEWAY_ID, file }, io);
    });

  program
    .command('send')
    .description('sign and POST a document to the gateway, then verify its receipt against the gateway JWKS')
    .requiredOption('--key <file>', 'private key (JWK or PKCS#8 PEM)')
    .requiredOption('--iss <id>', 'your party id')
    .option('--aud <id>', 'the gateway party id (default: GATEWAY_ID)')
    .option('--url <url>', 'the exchanges endpoint', 'http://127.0.0.1:8080/v1/exchanges')
    .requiredOption('--content-type <type>', "media type of your format (application/xml, application/json, text/csv)")
    .option('--jti <jti>', 'request id (default: random); resend with the same jti to retry')
    .argument('<file>', 'the document')
    .action(async (file: string, options: { key: string; iss: string; aud?: string; url: string; contentType: string; jti?: string }) => {
      status = await sendCommand({ ...options, aud: options.aud ?? settings().GATEWAY_ID, file }, io);
    });

  program
    .command('inbox')
    .description("run a partner's inbox for the gateway's deliveries (PROTOCOL §7): verify each signed document, answer with a signed receipt, print one line per document")
    .requiredOption('--as <partner>', 'the partner id, as in its registry file')
    .requiredOption('--key <file>', "the partner's private key (JWK or PKCS#8 PEM), registered in its registry file: it signs the receipts")
    .option('--port <n>', 'port to listen on', (value: string) => (value === '0' ? 0 : positiveInteger(value)), 9000)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--gateway-jwks <url-or-file>', "the gateway's published keys", 'http://127.0.0.1:8080/.well-known/jwks.json')
    .option('--gateway-id <id>', 'the gateway party id (default: GATEWAY_ID)')
    .option('--partners-dir <dir>', 'the partner registry', 'config/partners')
    .action(async (options: { as: string; key: string; port: number; host: string; gatewayJwks: string; gatewayId?: string; partnersDir: string }) => {
      status = await inboxCommand({ ...options, gatewayId: options.gatewayId ?? settings().GATEWAY_ID }, io);
    });

  program
    .command('verify-receipt')
    .description("verify a gateway receipt offline against the gateway's JWKS (a file or a URL)")
    .requiredOption('--jwks <file-or-url>', 'the gateway JWKS')
    .argument('[receipt]', 'the compact JWS (default: standard input)')
    .action(async (receipt: string | undefined, options: { jwks: string }) => {
      status = await verifyReceiptCommand({ ...options, receipt }, io);
    });

  program
    .command('status')
    .description("ask the gateway for the signed status of one subject, and verify the assertion against the gateway's JWKS")
    .argument('<scheme>', 'eu-aeo, gb-aeo, jp-aeo, kr-aeo, ca-pip, mx-oea, eori, jp-corp, kr-brn, ca-bn, mx-rfc, ctpat or mid')
    .argument('<id>', 'the exact identifier')
    .option('--url <url>', "the gateway's base URL", 'http://127.0.0.1:8080')
    .option('--key <file>', 'ask as a partner: your private key')
    .option('--iss <id>', 'ask as a partner: your party id')
    .option('--token <jwt>', 'ask as staff: your bearer token (default: MRAGW_STAFF_TOKEN)')
    .option('--aud <id>', 'the gateway party id (default: GATEWAY_ID)')
    .action(async (scheme: string, id: string, options: { url: string; key?: string; iss?: string; token?: string; aud?: string }) => {
      status = await statusCommand({ scheme, id, url: options.url, key: options.key, iss: options.iss, token: options.token ?? io.env['MRAGW_STAFF_TOKEN'], aud: options.aud ?? settings().GATEWAY_ID }, io);
    });
  program
    .command('verify-status')
    .description('verify a status assertion offline against the gateway JWKS (a file or a URL)')
    .requiredOption('--jwks <file-or-url>', 'the gateway JWKS')
    .argument('[assertion]', 'the compact JWS (default: standard input)')
    .action(async (assertion: string | undefined, options: { jwks: string }) => {
      status = await verifyStatusCommand({ jwks: options.jwks, assertion }, io);
    });
  program
    .command('staff-token')
    .description('mint a development staff token (for a gateway started with MRAGW_DEV_STAFF=1 on a loopback address)')
    .requiredOption('--sub <name>', 'who you are (recorded with every decision)')
    .option('--role <role...>', 'reviewer, admin, feed-reader', ['reviewer'])
    .option('--ttl <seconds>', 'lifetime, at most a day', positiveInteger, 3600)
    .action(async (options: { sub: string; role: string[]; ttl: number }) => {
      status = await staffTokenCommand({ dataDir: settings().DATA_DIR, subject: options.sub, roles: options.role, ttlSeconds: options.ttl }, io);
    });

  const staff = program.command('staff').description("CBP staff work, through the running gateway's API (token: --token or MRAGW_STAFF_TOKEN)");
  const staffOptions = (c: Command) => c.option('--url <url>', "the gateway's base URL", 'http://127.0.0.1:8080').option('--token <jwt>', 'staff bearer token');
  const send = (options: { url: string; token?: string }, method: 'GET' | 'POST', path: string, body?: Parameters<typeof staffRequest>[0]['body'], summary?: (answer: unknown) => string) =>
    staffRequest({ url: options.url, token: options.token ?? io.env['MRAGW_STAFF_TOKEN'], method, path, ...(body && { body }), ...(summary && { summary }) }, io);
  staffOptions(staff.command('discrepancies').description('list discrepancies').option('--state <state>', 'open, accepted, overridden, dismissed or all', 'open').option('--cursor <cursor>', 'the `next` of the previous page')).action(
    async (o: { url: string; token?: string; state: string; cursor?: string }) => {
      status = await send(o, 'GET', `/v1/discrepancies?state=${encodeURIComponent(o.state)}${o.cursor === undefined ? '' : `&cursor=${encodeURIComponent(o.cursor)}`}`);
    },
  );
  staffOptions(
    staff
      .command('decide')
      .description('decide a discrepancy: who, when and why are recorded')
      .argument('<id>', 'discrepancy id')
      .addOption(new Option('--decision <decision>', 'the decision').choices(['accepted', 'overridden', 'dismissed']).makeOptionMandatory())
      .requiredOption('--reason <text>', 'why'),
  ).action(async (id: string, o: { url: string; token?: string; decision: string; reason: string }) => {
    status = await send(o, 'POST', `/v1/discrepancies/${encodeURIComponent(id)}/decision`, { json: { decision: o.decision, reason: o.reason } });
  });
  staffOptions(staff.command('release').description('release a batch held for a gap or a jump').argument('<exchangeId>').option('--reason <text>', 'why (kept in the audit log)')).action(async (exchangeId: string, o: { url: string; token?: string; reason?: string }) => {
    status = await send(o, 'POST', `/v1/exchanges/${encodeURIComponent(exchangeId)}/release`, o.reason === undefined ? undefined : { json: { reason: o.reason } });
  });
  staffOptions(staff.command('feed').description('the benefit change feed after a cursor').option('--after <id>', 'cursor', '0')).action(async (o: { url: string; token?: string; after: string }) => {
    status = await send(o, 'GET', `/v1/benefits/changes?after=${encodeURIComponent(o.after)}`);
  });
  staffOptions(
    staff.command('import-ctpat').description('import the C-TPAT member export (a full export: absent members are removed) and show what changed since the last import').argument('<file>'),
  ).action(async (file: string, o: { url: string; token?: string }) => {
    status = await send(o, 'POST', '/v1/ctpat/members', { raw: readFileSync(file), contentType: 'application/x-ndjson' }, ctpatImportSummary);
  });
  staffOptions(staff.command('deliveries').description("each delivery partner's health: sequences sent and delivered, pending, dead letters, breaker, SNAPSHOT schedule").option('--partner <id>', "that partner's documents instead")).action(
    async (o: { url: string; token?: string; partner?: string }) => {
      status = await send(o, 'GET', o.partner === undefined ? '/v1/deliveries' : `/v1/partners/${encodeURIComponent(o.partner)}/deliveries`);
    },
  );
  staffOptions(staff.command('delivery').description('one outbound document with every attempt').argument('<id>')).action(async (id: string, o: { url: string; token?: string }) => {
    status = await send(o, 'GET', `/v1/deliveries/${encodeURIComponent(id)}`);
  });
  for (const [name, description] of [
    ['replay', 'send a dead letter again: the same bytes and jti'],
    ['skip', 'replace a dead letter by a fresh SNAPSHOT under its sequence'],
  ] as const) {
    staffOptions(staff.command(name).description(description).argument('<deliveryId>').requiredOption('--reason <text>', 'why (in the audit log)')).action(async (id: string, o: { url: string; token?: string; reason: string }) => {
      status = await send(o, 'POST', `/v1/deliveries/${encodeURIComponent(id)}/${name}`, { json: { reason: o.reason } });
    });
  }
  staffOptions(staff.command('send-snapshot').description("send a partner a full SNAPSHOT now, outside its schedule").argument('<partner>').requiredOption('--reason <text>', 'why (in the audit log)')).action(
    async (partner: string, o: { url: string; token?: string; reason: string }) => {
      status = await send(o, 'POST', `/v1/partners/${encodeURIComponent(partner)}/snapshot`, { json: { reason: o.reason } });
    },
  );
  staffOptions(staff.command('ctpat-imports').description('the latest C-TPAT imports and their counts').option('--limit <n>', 'how many', '20')).action(async (o: { url: string; token?: string; limit: string }) => {
    status = await send(o, 'GET', `/v1/ctpat/imports?limit=${encodeURIComponent(o.limit)}`);
  });

  const overrideExit = (command: Command): void => {
    command.exitOverride();
    command.commands.forEach(overrideExit);
  };
  overrideExit(program);

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return status;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`mragw: ${message}\n`);
    return exitStatusOf(error);
  }
}
