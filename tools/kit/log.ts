const isTty = process.stdout.isTTY === true;
const started = Date.now();

function stamp(): string {
  return `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s]`;
}

export const log = {
  step(service: string, message: string): void {
    console.log(`${stamp()} ${service.padEnd(16)} ${message}`);
  },
  warn(service: string, message: string): void {
    console.warn(`${stamp()} ${service.padEnd(16)} WARN ${message}`);
  },
  /** A progress line for long waits and downloads; rewritten in place on a terminal. */
  progress(service: string, message: string): void {
    if (isTty) process.stdout.write(`\r${stamp()} ${service.padEnd(16)} ${message}\x1b[K`);
    else console.log(`${stamp()} ${service.padEnd(16)} ${message}`);
  },
  endProgress(): void {
    if (isTty) process.stdout.write('\n');
  },
};
