import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { appSecurityHeaders } from '../edge/security/security-headers.ts';

// The SPA never holds tokens: /auth and /api go to the BFF, which keeps the session cookie.
const BFF = 'http://127.0.0.1:8000';
// Build tooling reads its own environment; the app itself has no configuration at all.
const CDN_ORIGIN = new URL(process.env.CDN_URL ?? 'http://localhost:8002').origin;
const KEYCLOAK_ORIGIN = new URL(process.env.KEYCLOAK_PUBLIC_URL ?? process.env.KEYCLOAK_URL ?? 'http://127.0.0.1:8080').origin;

/**
 * `vite preview` serves the production build with the headers the edge sends, from the edge's own
 * definition, so the browser tests prove the built app runs under its CSP: no inline script,
 * fetches only to itself and the CDN edge. Preview is plain HTTP, hence no HSTS.
 */
const productionHeaders = appSecurityHeaders({ publicUrl: 'http://localhost:3000', connectOrigins: [CDN_ORIGIN], formOrigins: [KEYCLOAK_ORIGIN] });

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
