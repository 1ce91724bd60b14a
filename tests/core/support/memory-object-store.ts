import type { ReportObjectStore } from '../../../core/reports/s3-store.ts';

/**
 * An in-memory ReportObjectStore for unit tests of the code above S3 (the real S3 path is tested in
 * the *.int.test.ts files). `pageSize` makes topLevelSegmentPages yield that many folders a page, so
 * a caller's paging is exercised.
 */
export function memoryObjectStore(
  initial: Record<string, string> = {},
  options: { pageSize?: number } = {},
): ReportObjectStore & { objects: Map<string, string>; writes: number } {
  const objects = new Map(Object.entries(initial));
  const store = {
    objects,
    writes: 0,
    async exists(key: string) {
      return objects.has(key);
    },
    async read(key: string) {
      return objects.get(key) ?? null;
    },
    async write(key: string, body: string) {
      store.writes++;
      objects.set(key, body);
    },
    async deletePrefix(prefix: string) {
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix));
      for (const key of keys) objects.delete(key);
      return keys;
    },
    async listTopLevelSegments() {
      return [...new Set([...objects.keys()].filter((k) => k.includes('/')).map((k) => k.slice(0, k.indexOf('/'))))];
    },
    async *topLevelSegmentPages() {
      const segments = await store.listTopLevelSegments();
      const size = options.pageSize ?? Math.max(segments.length, 1);
      for (let i = 0; i < segments.length; i += size) yield segments.slice(i, i + size);
    },
    async anyKeyUnder(prefix: string) {
      return [...objects.keys()].find((k) => k.startsWith(prefix));
    },
    async ping() {},
  };
  return store;
}
