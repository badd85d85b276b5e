// The web console: `npm run build` writes web/dist, which the API serves at `/`
// (src/api/routes/web.ts). `npm run dev:web` serves it with hot reload and
// proxies /api to a running `npm start` on :8787.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8787' } },
});
