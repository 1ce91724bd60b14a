import { brotliCompress, constants, gzip } from 'node:zlib';
import type { Compressor } from '../cdn/compression.ts';

/** Brotli and gzip through node:zlib (Node, Bun and Deno all provide it). */
export function createZlibCompressor(): Compressor {
  const run = (fn: typeof gzip, bytes: Uint8Array, options: object) =>
    new Promise<Uint8Array>((resolve, reject) => fn(bytes, options, (error, out) => (error ? reject(error) : resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength)))));
  return {
    codings: ['br', 'gzip'],
    compress(bytes, coding) {
      if (coding === 'br') {
        // Quality 5: most of Brotli's gain for a fraction of its top-quality CPU; results are cached anyway.
        return run(brotliCompress as unknown as typeof gzip, bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength } });
      }
      return run(gzip, bytes, { level: 6 });
    },
  };
}
