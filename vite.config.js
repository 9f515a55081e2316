// Vite build of the page: Vue single-file components compiled ahead of time (no runtime template
// compiler, hence no eval — the CSP issue forbids unsafe-eval) into fixed names under static/dist/.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  plugins: [vue()],
  // Nothing to copy from a public/ folder: Flask serves static/ itself.
  publicDir: false,
  // Relative imports between chunks, because Flask mounts the files under /static/dist/.
  base: "./",
  build: {
    outDir: here("./static/dist"),
    emptyOutDir: true,
    sourcemap: true,
    // The page links plotify.js directly; no injected preload polyfill (it would be an inline script).
    modulePreload: { polyfill: false },
    target: "es2020",
    rollupOptions: {
      input: {
        plotify: here("./frontend/main.js"),
        // Bench-only entry: the same scatter renderer beside an SVG one-circle-per-track baseline.
        bench: here("./frontend/bench.js"),
      },
      output: {
        // Stable names so templates/index.html can use url_for without reading a manifest.
        entryFileNames: "[name].js",
        chunkFileNames: "chunks/[name].js",
        assetFileNames: "assets/[name][extname]",
        // Code shared by the page and the bench entry goes into one plainly named chunk.
        manualChunks: (id) => (id.includes("node_modules") ? "vendor" : undefined),
      },
    },
  },
});
