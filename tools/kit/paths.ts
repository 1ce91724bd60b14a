import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root, whichever directory the command was started from. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Everything the native stack writes lives under one ignored folder. */
export const STACK_DIR = process.env.BIONICPRO_STACK_DIR ?? join(ROOT, '.stack');

export const paths = {
  data: (service: string) => join(STACK_DIR, 'data', service),
  log: (service: string) => join(STACK_DIR, 'logs', `${service}.log`),
  pid: (service: string) => join(STACK_DIR, 'run', `${service}.pid`),
  run: join(STACK_DIR, 'run'),
  logs: join(STACK_DIR, 'logs'),
  /** Downloaded jars and tarballs, unpacked; kept between runs so a warm machine starts fast. */
  vendor: join(STACK_DIR, 'vendor'),
  env: join(STACK_DIR, 'stack.env'),
  config: join(ROOT, 'stack', 'config'),
};
