import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    // Monaco is its own lazy chunk; the first paint must not wait for it.
    chunkSizeWarningLimit: 6000,
    sourcemap: false,
    // Which chunk imports which: bench:console counts what each step of a visit loads.
    manifest: true,
  },
  worker: { format: 'es' },
  server: {
    port: 5173,
    proxy: { '/api': { target: 'http://127.0.0.1:3000', changeOrigin: false } },
  },
});
