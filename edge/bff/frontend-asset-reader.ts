/**
 * The built app (frontend/dist), as the runtime can read it: node:fs on Node, Bun and Deno
 * (edge/runtime/frontend-dist.ts), the Workers Static Assets binding on workerd. `path` is relative
 * to the build's root, already decoded and checked by frontend-assets.ts (no `.`/`..` segment, no backslash, no
 * control character); the reader confines it to its root again. Undefined when no such file.
 */
export interface FrontendAssetReader {
  read(path: string): Promise<Uint8Array<ArrayBuffer> | undefined>;
}
