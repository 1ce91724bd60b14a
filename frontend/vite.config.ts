import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The SPA never holds tokens: /auth and /api go to the BFF, which keeps the session cookie.
const BFF = 'http://127.0.0.1:8000';

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
  preview: { host: '127.0.0.1', port: 3000, strictPort: true },
  build: { outDir: 'dist', emptyOutDir: true },
});
