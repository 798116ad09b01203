/**
 * A progress bar for long staff commands, on standard error and only on a terminal: a
 * pipe, a log file or a test sees nothing of it, so their output stays exactly the JSON
 * answer. Drawn by cli-progress, which handles redraws, widths and the cursor.
 */
import cliProgress from 'cli-progress';
import type { CommandIo } from './io.ts';

/** What a command reports as it goes; every method does nothing off a terminal. */
export interface Progress {
  /** `done` of the total so far, in the current phase. */
  update(done: number): void;
  /** A new phase (`importing`): the bar stays full while the gateway works. */
  phase(name: string): void;
  /** Removes the bar and leaves `summary` (if any) in its place. */
  stop(summary?: string): void;
}

const silent: Progress = { update: () => undefined, phase: () => undefined, stop: () => undefined };

/** A bar over `total` bytes on `stderr` when it is a terminal; otherwise a progress that draws nothing. */
export function bytesProgress(stderr: CommandIo['stderr'], total: number, firstPhase: string): Progress {
  if (stderr.isTTY !== true) return silent;
  const bar = new cliProgress.SingleBar(
    {
      stream: stderr as NodeJS.WritableStream,
      format: '{phase} [{bar}] {percentage}% | {value}/{total} bytes',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { phase: firstPhase.padEnd(9) });
  return {
    update: (done) => bar.update(done),
    phase: (name) => bar.update(total, { phase: name.padEnd(9) }),
    stop: (summary) => {
      bar.stop();
      if (summary !== undefined) stderr.write(`${summary}\n`);
    },
  };
}
