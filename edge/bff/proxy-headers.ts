/**
 * Header hygiene for the /api proxy. Hop-by-hop headers (RFC 9110 §7.6.1, plus any the Connection
 * header names) belong to one connection, not the exchange; cookies are the browser↔BFF credential
 * and never reach core; core's own cookies never reach the browser. Bodies arrive decoded (fetch
 * decompresses), so the encoding and length headers of the original no longer describe them.
 */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

const DROP_FROM_REQUEST = new Set([...HOP_BY_HOP, 'host', 'content-length', 'cookie', 'authorization', 'x-request-id', 'origin', 'referer', 'accept-encoding', 'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip']);
const DROP_FROM_RESPONSE = new Set([...HOP_BY_HOP, 'set-cookie', 'content-encoding', 'content-length', 'www-authenticate', 'x-request-id']);

function connectionListed(headers: Headers): Set<string> {
  return new Set(
    (headers.get('connection') ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
}

export function headersForCore(incoming: Headers, accessToken: string, requestId: string): Headers {
  const listed = connectionListed(incoming);
  const out = new Headers();
  incoming.forEach((value, name) => {
    const lower = name.toLowerCase();
    if (!DROP_FROM_REQUEST.has(lower) && !listed.has(lower)) out.set(name, value);
  });
  out.set('authorization', `Bearer ${accessToken}`);
  out.set('x-request-id', requestId);
  // Plain bodies from core: nothing to re-encode on the way back.
  out.set('accept-encoding', 'identity');
  return out;
}

export function headersForBrowser(upstream: Headers): Headers {
  const listed = connectionListed(upstream);
  const out = new Headers();
  upstream.forEach((value, name) => {
    const lower = name.toLowerCase();
    if (!DROP_FROM_RESPONSE.has(lower) && !listed.has(lower)) out.append(name, value);
  });
  return out;
}
