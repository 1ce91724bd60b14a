/**
 * Query strings as the web has them (URLSearchParams): every value a string, nothing JSON-encoded,
 * so `?q=007` stays `007` and a search for a number does not become `?q=%22123%22`. Pages that
 * need numbers or enums validate and convert their search themselves (`validateSearch`).
 */
export function parseSearch(searchStr: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(searchStr));
}

export function stringifySearch(search: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(search)) if (value !== undefined && value !== null) params.set(key, String(value));
  const query = params.toString();
  return query ? `?${query}` : '';
}
