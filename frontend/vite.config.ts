import { defineConfig } from "vitest/config";

// Django serves dist/index.html for every non-API path and /static/ through
// whitenoise (collectstatic of dist/), so every asset URL starts with /static/.
export default defineConfig({
  base: "/static/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    chunkSizeWarningLimit: 4096,
  },
  // JSX is compiled by Vite's built-in transform; no React plugin needed.
  oxc: {
    jsx: { runtime: "automatic", importSource: "react" },
  },
  optimizeDeps: {
    // The loader creates its decode workers with new URL(..., import.meta.url);
    // pre-bundling would break those URLs.
    exclude: ["@cornerstonejs/dicom-image-loader"],
    include: ["dicom-parser"],
  },
  worker: {
    format: "es",
  },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8000",
      "/wado": "http://127.0.0.1:8000",
    },
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
    passWithNoTests: false,
    restoreMocks: true,
  },
});
