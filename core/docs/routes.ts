import type { OpenAPIHono } from '@hono/zod-openapi';
import { registerBearerAuthScheme } from '../../common/http/openapi.ts';
import type { CoreEnv } from '../context.ts';

const DOCUMENT_INFO = {
  openapi: '3.0.3',
  info: {
    title: 'BionicPRO reports core',
    version: '1.0.0',
    description:
      'Usage reports for prosthesis owners, cached report objects behind the CDN edge, cache invalidation, health and device telemetry ingestion. ' +
      'Every /api route except /api/telemetry needs a Keycloak access token (RS256, audience reports-api); /api/telemetry is device-signed.',
  },
  servers: [{ url: 'http://127.0.0.1:8001' }],
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

/** What the page reads of an OpenAPI operation; parameters may be `$ref`s, which it skips. */
type Operation = {
  summary?: string;
  description?: string;
  security?: unknown[];
  parameters?: Array<{ name?: string; in?: string; $ref?: string }>;
  responses?: Record<string, { description?: string }>;
};
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
type PathItem = { [method in (typeof METHODS)[number]]?: Operation };

/** A self-contained page (no CDN scripts: the machines here are offline) listing every operation. */
function renderDocsPage(document: { paths?: Record<string, PathItem> }): string {
  const rows = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    METHODS.flatMap((method) => (item[method] ? [[method, item[method]] as const] : [])).map(([method, op]) => {
      const params = (op.parameters ?? [])
        .flatMap((p) => (p.name && p.in ? [`${escapeHtml(p.name)} <small>(${escapeHtml(p.in)})</small>`] : []))
        .join(', ');
      const responses = Object.entries(op.responses ?? {}).map(([status, r]) => `<li><code>${escapeHtml(status)}</code> ${escapeHtml(r.description ?? '')}</li>`).join('');
      return `<section><h2><code>${method.toUpperCase()} ${escapeHtml(path)}</code>${op.security?.length ? ' 🔒' : ''}</h2>
<p>${escapeHtml(op.summary ?? '')}</p>${op.description ? `<p><small>${escapeHtml(op.description)}</small></p>` : ''}
${params ? `<p>Parameters: ${params}</p>` : ''}<ul>${responses}</ul></section>`;
    }),
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(DOCUMENT_INFO.info.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}section{border-top:1px solid #ddd;padding:.5rem 0}h2{font-size:1rem}</style></head>
<body><h1>${escapeHtml(DOCUMENT_INFO.info.title)}</h1><p>${escapeHtml(DOCUMENT_INFO.info.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. 🔒 = bearer token required.</p>${rows.join('\n')}</body></html>`;
}

/** /openapi.json generated from the route schemas, and a docs page rendered from it. */
export function registerDocsRoutes(app: OpenAPIHono<CoreEnv>): void {
  registerBearerAuthScheme(app);
  app.doc('/openapi.json', DOCUMENT_INFO);
  app.get('/docs', (c) => c.html(renderDocsPage(app.getOpenAPIDocument(DOCUMENT_INFO))));
}
