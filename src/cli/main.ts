/**
 * The `mragw` command line. Each command is a module of its own; this file only wires
 * them to commander and turns wrong usage into exit status 64.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadSettings, SettingsError } from '../config.ts';
import { GatewayError } from '../errors.ts';
import { loadFormats } from '../translate/load-mappings.ts';
import { exitCodes, type CommandIo } from './io.ts';
import { keysGenerate, sendCommand, signCommand, verifyReceiptCommand } from './partner-commands.ts';
import { demoCommand } from './demo-command.ts';
import { runGateway } from './run-gateway.ts';
import { translateCommand } from './translate-command.ts';

const positiveInteger = (value: string): number => {
  if (!/^[1-9]\d{0,15}$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('must be a whole number from 1 to 2^53-1');
  return Number(value);
};

/** Runs the command line with `argv` (without node and script); resolves to the exit status. */
export async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  let status: number = exitCodes.ok;
  const settings = () => loadSettings(io.env);
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
    .description('start the gateway on embedded defaults and send each shipped partner\'s sample document to it, signed with its development key')
    .option('--dev-keys <dir>', 'partners\' development keys', 'config/dev-keys')
    .option('--fixtures <dir>', 'sample documents, fixtures/<format>/sample', 'fixtures')
    .action(async (options: { devKeys: string; fixtures: string }) => {
      status = await demoCommand(settings(), { devKeysDir: options.devKeys, fixturesDir: options.fixtures }, io);
    });

  program
    .command('start')
    .description('the whole gateway in one process (HTTP API and workers), on embedded defaults (npm start)')
    .action(async () => {
      status = await runGateway(settings(), { api: true, workers: true }, io);
    });
  program
    .command('serve')
    .description('the HTTP API only; needs DATABASE_URL and a shared signing key')
    .action(async () => {
      status = await runGateway(settings(), { api: true, workers: false }, io);
    });
  program
    .command('work')
    .description('the workers only; needs DATABASE_URL and a shared signing key')
    .action(async () => {
      status = await runGateway(settings(), { api: false, workers: true }, io);
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
    .command('verify-receipt')
    .description("verify a gateway receipt offline against the gateway's JWKS (a file or a URL)")
    .requiredOption('--jwks <file-or-url>', 'the gateway JWKS')
    .argument('[receipt]', 'the compact JWS (default: standard input)')
    .action(async (receipt: string | undefined, options: { jwks: string }) => {
      status = await verifyReceiptCommand({ ...options, receipt }, io);
    });

  for (const command of program.commands) command.exitOverride();
  for (const command of keys.commands) command.exitOverride();

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return status;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`mragw: ${message}\n`);
    return (error instanceof GatewayError && error.code === 'usage') || error instanceof SettingsError ? exitCodes.usage : exitCodes.failure;
  }
}
