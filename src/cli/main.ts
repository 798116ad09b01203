/**
 * The `mragw` command line. Each command is a module of its own; this file only wires
 * them to commander and turns wrong usage into exit status 64.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { loadSettings } from '../config.ts';
import { GatewayError } from '../errors.ts';
import { loadFormats } from '../translate/load-mappings.ts';
import { exitCodes, type CommandIo } from './io.ts';
import { translateCommand } from './translate-command.ts';

const positiveInteger = (value: string): number => {
  if (!/^[1-9]\d{0,15}$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('must be a whole number from 1 to 2^53-1');
  return Number(value);
};

/** Runs the command line with `argv` (without node and script); resolves to the exit status. */
export async function run(argv: readonly string[], io: CommandIo): Promise<number> {
  let status: number = exitCodes.ok;
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
    .exitOverride()
    .action(async (file: string | undefined, options: { from: string; to: string; sequence: number; batchId?: string; maxBytes: number }) => {
      const settings = loadSettings(io.env);
      status = await translateCommand(loadFormats(), { ...options, file, gatewayId: settings.GATEWAY_ID }, io);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return status;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    const message = error instanceof GatewayError || error instanceof Error ? error.message : String(error);
    io.stderr.write(`mragw: ${message}\n`);
    return error instanceof GatewayError && error.code === 'usage' ? exitCodes.usage : exitCodes.failure;
  }
}
