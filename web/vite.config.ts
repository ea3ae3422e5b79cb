import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// Node's global, without pulling in all of @types/node for one variable.
declare const process: { env: Record<string, string | undefined> };

// The gateway serves dist/ at "/" on the same origin as the API (services/realtime/app.py).
// `npm run dev` proxies the API to a running `make dev` gateway (OMNI_GATEWAY_URL).
const gateway = process.env.OMNI_GATEWAY_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", sourcemap: true, chunkSizeWarningLimit: 600 },
  server: {
    proxy: { "/v1": { target: gateway, ws: true, changeOrigin: false } },
  },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
