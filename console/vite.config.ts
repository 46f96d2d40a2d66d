import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The console is served by the service at /console/ under a strict Content-Security-Policy
// (no inline script or style, same origin only), so the build emits files only: no inline
// module-preload polyfill, no inlined assets.
export default defineConfig({
  // Relative asset URLs: the service serves the console under any mount path and gives each page
  // its <base>, so the same build works standalone (/console/) and inside a host app (/auth/console/).
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: true,
    target: 'es2022',
  },
});
