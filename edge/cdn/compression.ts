/**
 * Content codings for report objects (CDN) and the built app (BFF). CompressionStream('gzip') is the
 * portable baseline (workerd, Deno, Node); Brotli has no Web API, so runtimes that have it (node:zlib
 * under Node, Bun and Deno) pass their own compressor from edge/runtime/. Compressed variants are
 * cached, never recomputed per request.
 */
export type ContentCoding = 'br' | 'gzip';

export interface Compressor {
  /** What this runtime can produce, in order of preference. */
  codings: readonly ContentCoding[];
  compress(bytes: Uint8Array, coding: ContentCoding): Promise<Uint8Array>;
  /**
   * The runtime compresses responses itself when told the coding in Content-Encoding (workerd):
   * hand it the identity bytes and the header instead of compressed bytes.
   */
  encodesResponses?: boolean;
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const buffer = await new Response(stream).arrayBuffer();
  return new Uint8Array(buffer);
}

/** gzip through CompressionStream where the runtime has it; otherwise no compression at all. */
export function createStreamCompressor(): Compressor {
  if (typeof CompressionStream !== 'function') return { codings: [], compress: () => Promise.reject(new Error('no CompressionStream here')) };
  return {
    codings: ['gzip'],
    async compress(bytes, coding) {
      if (coding !== 'gzip') throw new Error(`CompressionStream cannot produce ${coding}`);
      return collect(new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('gzip')));
    },
  };
}

/**
 * workerd encodes a response body itself (natively, gzip and br) when the worker sets
 * Content-Encoding and leaves encodeBody at its default; Cloudflare's edge does the same.
 */
export function createRuntimeEncoding(codings: readonly ContentCoding[] = ['br', 'gzip']): Compressor {
  return { codings, encodesResponses: true, compress: () => Promise.reject(new Error('the runtime encodes responses itself')) };
}

const COMPRESSIBLE = /^(application\/(json|javascript|xml|[a-z.+-]*\+json|[a-z.+-]*\+xml)|text\/[a-z.+-]+|image\/svg\+xml)(;|$)/i;

export function isCompressible(contentType: string, byteLength: number, minBytes = 256): boolean {
  return byteLength >= minBytes && COMPRESSIBLE.test(contentType);
}

/**
 * Picks the coding for an Accept-Encoding header (RFC 9110 §12.5.3): the highest q among what we
 * can produce, our order breaking ties; `*` counts for codings not named; q=0 excludes.
 */
export function negotiateCoding(acceptEncoding: string | null | undefined, available: readonly ContentCoding[]): ContentCoding | 'identity' {
  if (!acceptEncoding || available.length === 0) return 'identity';
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [rawName, ...params] = part.trim().split(';');
    const name = rawName?.trim().toLowerCase();
    if (!name) continue;
    let q = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(param);
      if (match) q = Math.min(1, Math.max(0, Number(match[1]) || 0));
    }
    weights.set(name, q);
  }
  let best: ContentCoding | 'identity' = 'identity';
  let bestQ = 0;
  for (const coding of available) {
    const q = weights.get(coding) ?? (coding === 'gzip' ? weights.get('x-gzip') : undefined) ?? weights.get('*') ?? 0;
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  return best;
}
