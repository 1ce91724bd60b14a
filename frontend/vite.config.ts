import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The SPA never holds tokens: /auth and /api go to the BFF, which keeps the session cookie.
const BFF = 'http://127.0.0.1:8000';
// Build tooling reads its own environment; the app itself has no configuration at all.
const CDN_ORIGIN = new URL(process.env.CDN_URL ?? 'http://localhost:8002').origin;
const KEYCLOAK_ORIGIN = new URL(process.env.KEYCLOAK_PUBLIC_URL ?? process.env.KEYCLOAK_URL ?? 'http://127.0.0.1:8080').origin;

/**
 * `vite preview` serves the production build with the same Content-Security-Policy the edge sends
 * (edge/security/security-headers.ts), so the browser tests prove the built app runs under it:
 * no inline script, fetches only to itself and the CDN edge.
 */
const productionHeaders = {
  'Content-Security-Policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${CDN_ORIGIN}`,
    `form-action 'self' ${KEYCLOAK_ORIGIN}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; '),
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  server: {
    host: '127.0.0.1',
    port: 3000,
    strictPort: true,
    proxy: {
      '/auth': { target: BFF, changeOrigin: false },
      '/api': { target: BFF, changeOrigin: false },
    },
  },
  // Preview inherits server.proxy: the built app reaches the BFF the same way.
  preview: { host: '127.0.0.1', port: 3000, strictPort: true, headers: productionHeaders },
  build: { outDir: 'dist', emptyOutDir: true },
});
